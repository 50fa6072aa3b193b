"""The words of the web pages, in English and Hindi.

The policy's own texts (clause titles and prose, channels, authorities)
come from the policy and its `@hi` translations; only the pages' chrome is
here. A page is in the language the visitor chose (``?lang=hi``, kept in a
cookie), falling back to English for a text the policy does not translate,
marked with its own ``lang`` so that a screen reader reads it right.
"""

from __future__ import annotations

from typing import Any

LANGUAGES = ("en", "hi")
LANGUAGE_NAMES = {"en": "English", "hi": "हिन्दी"}

_EN: dict[str, str] = {
    "app": "govpost",
    "check.title": "Check a draft before you post",
    "check.lead": "Paste your draft and say where and how you will post it. The check runs as you type.",
    "check.privacy": "Your draft is not stored or logged. The server keeps no copy unless you ask it to save "
                     "the case for review.",
    "check.policy": "Policy",
    "check.text": "Your draft",
    "check.text.hint": "The words of the post, reply or comment, in any language.",
    "check.platform": "Platform",
    "check.account": "Account",
    "check.action": "What you will do",
    "check.shared_kind": "Whose content you share or like (optional)",
    "check.shared_text": "What is being shared (optional)",
    "check.posted_at": "When (optional; blank for now)",
    "check.submit": "Check",
    "check.save": "Save this case for review",
    "check.saved": "Saved for review as case {id}. A reviewer will see it in the queue.",
    "check.result": "Result",
    "check.empty": "Type or paste a draft to check it.",
    "check.live": "Checked as you type.",
    "outcome.permitted": "You may post this",
    "outcome.advisory": "Consider changing this before you post",
    "outcome.requires_sanction": "Needs prior sanction of {authority}",
    "outcome.requires_sanction.none": "Needs prior sanction",
    "outcome.prohibited": "Do not post this",
    "outcome.permitted.detail": "No clause of the policy stands in the way.",
    "evidence": "The words that matter, in your draft",
    "evidence.list": "Words found",
    "evidence.for": "for {clauses}",
    "evidence.other": "Other facts that count",
    "clauses": "What the policy says",
    "clause.number": "Clause {number}",
    "clause.rules": "Rules",
    "clause.unless": "Unless",
    "clause.no_prose": "This rule set carries clause titles only; serve the .policy file for the full text.",
    "advice": "What to do instead",
    "advice.without.before": "Without the words ",
    "advice.without.after": ", this would be: {outcome}.",
    "advice.without.note": "Checked again by the same rules with those words taken out.",
    "advice.sanction": "Ask {authority} for prior sanction before posting.",
    "advice.sanction.none": "Obtain prior sanction before posting.",
    "advice.with_sanction": "With that sanction obtained, this would be: {outcome}.",
    "advice.channels": "Use the proper channel instead of social media:",
    "advice.not_words": "Taking out the highlighted words does not change the outcome: it follows from "
                        "the account, the action or the date.",
    "field.text": "draft",
    "field.shared_from.text": "shared content",
    "platform.x": "X", "platform.facebook": "Facebook", "platform.instagram": "Instagram",
    "platform.linkedin": "LinkedIn", "platform.youtube": "YouTube", "platform.whatsapp": "WhatsApp",
    "platform.telegram": "Telegram", "platform.threads": "Threads", "platform.blog": "Blog",
    "platform.other": "Other",
    "account.personal": "Personal", "account.official": "Official", "account.anonymous": "Anonymous",
    "action.post": "Post", "action.reply": "Reply", "action.share": "Share", "action.like": "Like",
    "shared.none": "Nothing shared",
    "shared.political_party": "A political party", "shared.government": "A Government account",
    "shared.media": "A media outlet", "shared.individual": "An individual", "shared.other": "Someone else",
    "label.permitted": "Permitted", "label.advisory": "Advisory", "label.requires_sanction": "Requires sanction",
    "label.prohibited": "Prohibited",
    "nav.check": "Check a draft", "nav.review": "Review queue", "nav.training": "Training",
    "nav.login": "Sign in", "nav.logout": "Sign out", "nav.language": "हिन्दी में",
    "skip": "Skip to the content",
    "error": "Something is wrong",
    "training.title": "Training: social media and the conduct rules",
    "training.lead": "Each question is one of the policy's worked examples. Choose the outcome you think the "
                     "policy gives; the answer comes from the same rules that check drafts.",
    "training.sections": "Sections",
    "training.questions": "{n} questions",
    "training.question": "Question {label}",
    "training.choose": "What does the policy say of this post?",
    "training.submit": "Check my answers",
    "training.your_answer": "Your answer",
    "training.no_answer": "no answer",
    "training.right_answer": "The right answer",
    "training.right": "Right",
    "training.wrong": "Not quite",
    "training.score": "You answered {right} of {total} right in this section.",
    "training.total": "So far: {right} of {total} right, in {sections} of {all} sections.",
    "training.next": "Next section",
    "training.finish": "See your score",
    "training.final": "Your score",
    "training.deciding": "Decided by",
    "training.restart": "Start again",
    "login.title": "Sign in to the review queue",
    "login.username": "User name",
    "login.password": "Password",
    "login.submit": "Sign in",
    "login.failed": "That user name and password do not match.",
}

_HI: dict[str, str] = {
    "check.title": "पोस्ट करने से पहले प्रारूप की जांच करें",
    "check.lead": "अपना प्रारूप चिपकाएं और बताएं कि आप इसे कहां और कैसे पोस्ट करेंगे। जांच टाइप करते समय ही होती है।",
    "check.privacy": "आपका प्रारूप न तो संग्रहीत किया जाता है और न ही लॉग किया जाता है। जब तक आप समीक्षा के लिए "
                     "मामला सहेजने को न कहें, सर्वर कोई प्रति नहीं रखता।",
    "check.policy": "नीति",
    "check.text": "आपका प्रारूप",
    "check.text.hint": "पोस्ट, उत्तर या टिप्पणी के शब्द, किसी भी भाषा में।",
    "check.platform": "मंच",
    "check.account": "खाता",
    "check.action": "आप क्या करेंगे",
    "check.shared_kind": "आप किसकी सामग्री साझा या पसंद कर रहे हैं (वैकल्पिक)",
    "check.shared_text": "क्या साझा किया जा रहा है (वैकल्पिक)",
    "check.posted_at": "कब (वैकल्पिक; अभी के लिए खाली छोड़ें)",
    "check.submit": "जांचें",
    "check.save": "यह मामला समीक्षा के लिए सहेजें",
    "check.saved": "समीक्षा के लिए मामला {id} के रूप में सहेजा गया। समीक्षक इसे कतार में देखेंगे।",
    "check.result": "परिणाम",
    "check.empty": "जांच के लिए प्रारूप टाइप करें या चिपकाएं।",
    "check.live": "टाइप करते समय जांचा गया।",
    "outcome.permitted": "आप इसे पोस्ट कर सकते हैं",
    "outcome.advisory": "पोस्ट करने से पहले इसे बदलने पर विचार करें",
    "outcome.requires_sanction": "{authority} की पूर्व स्वीकृति आवश्यक है",
    "outcome.requires_sanction.none": "पूर्व स्वीकृति आवश्यक है",
    "outcome.prohibited": "इसे पोस्ट न करें",
    "outcome.permitted.detail": "नीति का कोई खंड इसमें बाधक नहीं है।",
    "evidence": "आपके प्रारूप में महत्वपूर्ण शब्द",
    "evidence.list": "पाए गए शब्द",
    "evidence.for": "{clauses} के लिए",
    "evidence.other": "अन्य तथ्य जो मायने रखते हैं",
    "clauses": "नीति क्या कहती है",
    "clause.number": "खंड {number}",
    "clause.rules": "नियम",
    "clause.unless": "सिवाय",
    "clause.no_prose": "इस नियम-समूह में केवल खंडों के शीर्षक हैं; पूरे पाठ के लिए .policy फ़ाइल चलाएं।",
    "advice": "इसके बजाय क्या करें",
    "advice.without.before": "",
    "advice.without.after": " शब्दों के बिना इसका परिणाम होगा: {outcome}।",
    "advice.without.note": "उन्हीं नियमों से, ये शब्द हटाकर, दोबारा जांचा गया।",
    "advice.sanction": "पोस्ट करने से पहले {authority} से पूर्व स्वीकृति लें।",
    "advice.sanction.none": "पोस्ट करने से पहले पूर्व स्वीकृति लें।",
    "advice.with_sanction": "वह स्वीकृति मिलने पर इसका परिणाम होगा: {outcome}।",
    "advice.channels": "सोशल मीडिया के बजाय उचित माध्यम का उपयोग करें:",
    "advice.not_words": "चिह्नित शब्द हटाने से परिणाम नहीं बदलता: यह खाते, कार्य या तिथि से तय होता है।",
    "field.text": "प्रारूप",
    "field.shared_from.text": "साझा सामग्री",
    "platform.blog": "ब्लॉग", "platform.other": "अन्य",
    "account.personal": "व्यक्तिगत", "account.official": "आधिकारिक", "account.anonymous": "अनाम",
    "action.post": "पोस्ट", "action.reply": "उत्तर", "action.share": "साझा करें", "action.like": "पसंद करें",
    "shared.none": "कुछ साझा नहीं",
    "shared.political_party": "कोई राजनीतिक दल", "shared.government": "कोई सरकारी खाता",
    "shared.media": "कोई मीडिया संस्थान", "shared.individual": "कोई व्यक्ति", "shared.other": "कोई अन्य",
    "label.permitted": "अनुमत", "label.advisory": "परामर्शी", "label.requires_sanction": "पूर्व स्वीकृति से ही",
    "label.prohibited": "निषिद्ध",
    "nav.check": "प्रारूप जांचें", "nav.review": "समीक्षा कतार", "nav.training": "प्रशिक्षण",
    "nav.login": "साइन इन", "nav.logout": "साइन आउट", "nav.language": "In English",
    "skip": "सामग्री पर जाएं",
    "error": "कुछ गलत है",
    "training.title": "प्रशिक्षण: सोशल मीडिया और आचरण नियम",
    "training.lead": "प्रत्येक प्रश्न नीति का एक उदाहरण है। वह परिणाम चुनें जो आपके अनुसार नीति देती है; उत्तर "
                     "उन्हीं नियमों से आता है जो प्रारूपों की जांच करते हैं।",
    "training.sections": "खंड",
    "training.questions": "{n} प्रश्न",
    "training.question": "प्रश्न {label}",
    "training.choose": "नीति इस पोस्ट के बारे में क्या कहती है?",
    "training.submit": "मेरे उत्तर जांचें",
    "training.your_answer": "आपका उत्तर",
    "training.no_answer": "कोई उत्तर नहीं",
    "training.right_answer": "सही उत्तर",
    "training.right": "सही",
    "training.wrong": "सही नहीं",
    "training.score": "इस खंड में आपने {total} में से {right} उत्तर सही दिए।",
    "training.total": "अब तक: {all} में से {sections} खंडों में, {total} में से {right} सही।",
    "training.next": "अगला खंड",
    "training.finish": "अपना अंक देखें",
    "training.final": "आपका अंक",
    "training.deciding": "निर्णायक खंड",
    "training.restart": "फिर से शुरू करें",
    "login.title": "समीक्षा कतार में साइन इन करें",
    "login.username": "उपयोगकर्ता नाम",
    "login.password": "पासवर्ड",
    "login.submit": "साइन इन",
    "login.failed": "यह उपयोगकर्ता नाम और पासवर्ड मेल नहीं खाते।",
}

_TABLES = {"en": _EN, "hi": _HI}


def gettext(lang: str, key: str, **values: Any) -> str:
    """The words for ``key`` in ``lang`` (English where Hindi has none), with ``{values}`` filled in."""
    table = _TABLES.get(lang, _EN)
    template = table[key] if key in table else _EN.get(key, key)
    return template.format(**values) if values else template


def has_key(key: str) -> bool:
    return key in _EN


def pick(text: dict[str, Any] | None, lang: str) -> dict[str, str] | None:
    """The version of a *Text* in ``lang``, else its main version: ``{"text", "lang"}``."""
    if not text:
        return None
    versions = text.get("versions") or []
    for v in versions:
        if v["lang"] == lang:
            return {"text": v["text"], "lang": v["lang"]}
    if versions:
        return {"text": versions[0]["text"], "lang": versions[0]["lang"]}
    return {"text": text.get("text", ""), "lang": "en"}
