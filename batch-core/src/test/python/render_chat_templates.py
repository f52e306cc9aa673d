"""Reference renderer for the chat-template differential tests.

Renders templates with Python's jinja2 set up as Hugging Face transformers renders chat templates
(an ImmutableSandboxedEnvironment with trim_blocks and lstrip_blocks, the loopcontrols extension,
raise_exception, strftime_now, and a tojson filter that does not escape HTML), plus the two
documented behaviours of llama.cpp that the project reproduces (shared/chat-templates/README.md):
a leading BOS is removed, and a template that refuses a system role gets the system text folded
into the next user message.

Usage: python3 render_chat_templates.py CASES.json > RESULTS.json

CASES.json: {"now": "2024-07-26T23:30:00", "templates": {name: source},
             "cases": [{"template": name} or {"source": text}, "variables": {...},
                        "messages": [...], "add_generation_prompt": bool,
                        "bos_token": str, "eos_token": str}]}
A case with "messages" is a chat render (tools and documents default to None); a case without is
a plain render of "variables". Each result is {"text": str} or {"error": str, "type": str}.
"""

import json
import sys
from datetime import datetime

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment


def make_environment(now):
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(format):
        return now.strftime(format)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def fold_system(messages):
    """llama.cpp's fallback: system text goes in front of the next user message, joined by a newline."""
    folded, pending = [], ""

    def joined(a, b):
        return a + "\n" + b if a and b else a + b

    for m in messages:
        if m["role"] == "system":
            pending = joined(pending, m["content"])
        elif m["role"] == "user":
            if pending:
                m = dict(m, content=joined(pending, m["content"]))
                pending = ""
            folded.append(m)
        else:
            if pending:
                folded.append({"role": "user", "content": pending})
                pending = ""
            folded.append(m)
    if pending:
        folded.append({"role": "user", "content": pending})
    return folded


def chat_render(template, case, messages):
    variables = {"tools": None, "documents": None}
    variables.update(case.get("variables", {}))
    variables.update(messages=messages, add_generation_prompt=case["add_generation_prompt"],
                     bos_token=case["bos_token"], eos_token=case["eos_token"])
    text = template.render(**variables)
    bos = case["bos_token"]
    return text[len(bos):] if bos and text.startswith(bos) else text


def system_refusal(template):
    """What the template raises for a system message, if that is its refusal of the system role.

    It must render a lone user message, raise for a system message followed by that user message,
    and not raise the same for a user/assistant/user conversation (a refusal of several turns).
    """
    def refusal(messages):
        probe = {"add_generation_prompt": True, "bos_token": "", "eos_token": ""}
        try:
            chat_render(template, probe, messages)
            return None
        except jinja2.exceptions.TemplateError as e:
            return str(e) if type(e) is jinja2.exceptions.TemplateError else ""
        except Exception:
            return ""

    user = {"role": "user", "content": "Hello"}
    if refusal([user]) is not None:
        return None
    raised = refusal([{"role": "system", "content": "Be brief."}, user])
    turns = refusal([user, {"role": "assistant", "content": "Hi!"}, {"role": "user", "content": "Bye"}])
    return raised if raised and raised != turns else None


def render_case(env, templates, refusals, case):
    if "template" in case:
        name = case["template"]
        template = templates[name]
    else:
        name = None
        template = env.from_string(case["source"])
    if "messages" not in case:
        return template.render(**case.get("variables", {}))
    messages = case["messages"]
    try:
        return chat_render(template, case, messages)
    except jinja2.exceptions.TemplateError as e:
        refusal = refusals.get(name) if name else system_refusal(template)
        if (type(e) is jinja2.exceptions.TemplateError and refusal is not None and str(e) == refusal
                and any(m["role"] == "system" for m in messages)):
            return chat_render(template, case, fold_system(messages))
        raise


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        request = json.load(f)
    env = make_environment(datetime.fromisoformat(request["now"]))
    templates, refusals = {}, {}
    for name, source in request.get("templates", {}).items():
        templates[name] = env.from_string(source)
        refusals[name] = system_refusal(templates[name])
    results = []
    for case in request["cases"]:
        try:
            results.append({"text": render_case(env, templates, refusals, case)})
        except Exception as e:
            results.append({"error": str(e), "type": type(e).__name__})
    json.dump(results, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
