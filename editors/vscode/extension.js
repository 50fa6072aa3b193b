// The govpost extension: highlighting comes from the TextMate grammar; everything
// else (diagnostics, hover, definition, completion, formatting, outline) from the
// language server that `govpost lsp` runs.
"use strict";

const path = require("path");
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function serverCommand() {
  const configured = vscode.workspace.getConfiguration("govpost").get("path") || "govpost";
  const folder = vscode.workspace.workspaceFolders && vscode.workspace.workspaceFolders[0];
  const expanded = configured.replace("${workspaceFolder}", folder ? folder.uri.fsPath : "");
  // A relative path with a separator is taken from the first workspace folder.
  if (folder && !path.isAbsolute(expanded) && expanded.includes("/")) {
    return path.join(folder.uri.fsPath, expanded);
  }
  return expanded;
}

async function start() {
  const serverOptions = {
    command: serverCommand(),
    args: ["lsp"],
    transport: TransportKind.stdio,
  };
  const clientOptions = {
    documentSelector: [
      { scheme: "file", language: "govpost" },
      { scheme: "untitled", language: "govpost" },
    ],
    synchronize: {
      // Included files changed outside the editor are re-read.
      fileEvents: vscode.workspace.createFileSystemWatcher("**/*.policy"),
    },
  };
  client = new LanguageClient("govpost", "govpost", serverOptions, clientOptions);
  try {
    await client.start();
  } catch (err) {
    vscode.window.showErrorMessage(
      `govpost: could not start \`${serverOptions.command} lsp\` (${err.message || err}). ` +
        "Install govpost (pip install govpost) or set `govpost.path`."
    );
  }
}

async function activate(context) {
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration("govpost.path")) {
        if (client) {
          await client.stop();
        }
        await start();
      }
    })
  );
  await start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
