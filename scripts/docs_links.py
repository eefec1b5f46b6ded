"""The documentation's files and links, for `scripts/docs-check` and the mkdocs site.

    python scripts/docs_links.py      # check every link; exit 1 with one line per problem

The documentation is README.md, docs/*.md and the dated results in bench/results/ and
faults/results/. Links between them are relative repository paths, so they work when the
files are read in the repository; the site maps each file to a page (`site_path`) and the
mkdocs hook (scripts/mkdocs_hooks.py) rewrites the links to match. The check:

- every relative link resolves to a file in the repository that the site includes, and an
  anchor (`page.md#heading`) to a heading of that page;
- external links go only to the hosts in ALLOWED_HOSTS (nothing is fetched);
- no text points outside the repository (a relative path above its root, a Markdown file
  it does not have), and
  README.md and docs/ read as a description of the software, not a diary (no issue
  numbers, "this change", commit hashes);
- every result file is listed in its directory's README.md.
"""

import functools
import os
import posixpath
import re
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent

# Repository folder -> site folder. README.md is the site's home page.
SITE_DIRS = {"docs": "", "bench/results": "results/bench", "faults/results": "results/faults"}
RESULT_DIRS = ("bench/results", "faults/results")
ALLOWED_HOSTS = {"docs.stripe.com", "stripe.com", "status.stripe.com", "docs.djangoproject.com"}

# Anywhere, code included: pointers outside the repository, by rule rather than by name: a
# relative path that climbs above the repository's root, and a Markdown file the repository
# does not have.
CLIMBING_PATH = re.compile(r"(?:\.\./)+[\w.-]+(?:/[\w.-]+)*")
MARKDOWN_NAME = re.compile(r"\b[\w-]+\.md\b")
SKIPPED_DIRS = {".git", ".venv", "var", "node_modules", "site"}


@functools.cache
def repository_markdown_names() -> frozenset[str]:
    names = set()
    for _folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = [d for d in subfolders if d not in SKIPPED_DIRS]
        names.update(name for name in files if name.endswith(".md"))
    return frozenset(names)


def outside_pointers(rel: str, line: str):
    """What in `line` (of the file `rel`) points at something outside the repository."""
    for match in CLIMBING_PATH.finditer(line):
        if posixpath.normpath(posixpath.join(posixpath.dirname(rel), match.group(0))).startswith(
            ".."
        ):
            yield match.group(0)
    for match in MARKDOWN_NAME.finditer(line):
        if match.group(0) not in repository_markdown_names():
            yield match.group(0)


# README.md and docs/ (not the dated results): the history of the work.
DIARY = re.compile(
    r"\b(?:issue|pull request|PR)\s*#?\d+|(?<![\w/&])#\d{2,}\b|\bthis change\b"
    r"|\bfixes made in\b|\bcommit [0-9a-f]{7,40}\b",
    re.I,
)

# Fenced code blocks and inline code spans (which may run over a line break).
CODE = re.compile(
    r"^(?P<fence>[ \t]*(?:```|~~~))[^\n]*\n.*?^(?P=fence)[^\n]*$"
    r"|(?P<ticks>`+)(?!`).+?(?<!`)(?P=ticks)(?!`)",
    re.S | re.M,
)
INLINE_LINK = re.compile(
    r"(!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?)"  # [text]( or ![alt](
    r"([^)\s>]+)"  # the target
    r"(>?(?:\s+\"[^\"]*\")?\s*\))"  # an optional "title", then )
)
REFERENCE = re.compile(r"^(\s{0,3}\[[^\]]+\]:\s*<?)(\S+?)(>?(?:\s.*)?)$", re.M)
AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")
BARE_URL = re.compile(r"(?<![(<\"'])\bhttps?://[^\s)>\]`\"']+")
HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$", re.M)


def doc_files() -> list[Path]:
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for folder in RESULT_DIRS:
        files += sorted((ROOT / folder).glob("*.md"))
    return files


def site_path(repo_path: str) -> str | None:
    """The page or file of the site for a repository path, or None if the site lacks it."""
    if repo_path == "README.md":
        return "index.md"
    folder, _, name = repo_path.rpartition("/")
    if folder in SITE_DIRS and name:
        return posixpath.join(SITE_DIRS[folder], name)
    return None


def split_code(text: str):
    """Yield (is_code, chunk) pieces of a markdown text, in order."""
    position = 0
    for match in CODE.finditer(text):
        yield False, text[position : match.start()]
        yield True, match.group(0)
        position = match.end()
    yield False, text[position:]


def rewrite_links(text: str, replace) -> str:
    """The text with every link target outside code passed through replace(target)."""

    def inline(match):
        return match.group(1) + replace(match.group(2)) + match.group(3)

    pieces = []
    for is_code, chunk in split_code(text):
        if not is_code:
            chunk = REFERENCE.sub(inline, INLINE_LINK.sub(inline, chunk))
        pieces.append(chunk)
    return "".join(pieces)


def links(text: str) -> list[str]:
    """Every link target outside code: inline, reference, autolinks and bare URLs."""
    found: list[str] = []
    rewrite_links(text, lambda target: found.append(target) or target)
    prose = "".join(chunk for is_code, chunk in split_code(text) if not is_code)
    found += AUTOLINK.findall(prose)
    found += [url.rstrip(".,;:") for url in BARE_URL.findall(INLINE_LINK.sub("", prose))]
    return found


def anchors(text: str) -> set[str]:
    """The ids Python-Markdown's toc extension (as mkdocs uses it) gives the headings."""
    from markdown.extensions.toc import slugify, unique

    prose = "".join(
        "\n" * chunk.count("\n") if is_code else chunk for is_code, chunk in _code_blocks_only(text)
    )
    ids: set[str] = set()
    for match in HEADING.finditer(prose):
        title = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", match.group(2))
        title = re.sub(r"[`*]", "", title)
        unique(slugify(title, "-"), ids)  # adds the id, with _1, _2... for repeats
    return ids


def _code_blocks_only(text: str):
    """Like split_code, but only fenced blocks count as code (headings keep their spans)."""
    for is_code, chunk in split_code(text):
        yield (is_code and chunk.lstrip(" \t").startswith(("```", "~~~"))), chunk


def check_file(path: Path, anchor_cache: dict) -> list[str]:
    rel = path.relative_to(ROOT).as_posix()
    text = path.read_text(encoding="utf-8")
    problems = []
    for number, line in enumerate(text.splitlines(), 1):
        for pointer in outside_pointers(rel, line):
            problems.append(f"{rel}:{number}: points outside the repository: {pointer!r}")
        if not rel.startswith(RESULT_DIRS):
            for match in DIARY.finditer(line):
                problems.append(
                    f"{rel}:{number}: reads as history of the work, not as documentation: "
                    f"{match.group(0)!r} (dated notes belong in bench/ or faults/results/)"
                )
    for target in links(text):
        problem = check_link(rel, target, anchor_cache)
        if problem:
            problems.append(f"{rel}: link {target!r}: {problem}")
    return problems


def check_link(rel: str, target: str, anchor_cache: dict) -> str | None:
    parts = urlsplit(target)
    if parts.scheme in ("http", "https"):
        if parts.hostname not in ALLOWED_HOSTS:
            return f"external host {parts.hostname!r} is not allowed ({sorted(ALLOWED_HOSTS)})"
        return None
    if parts.scheme or parts.netloc:
        return "only relative links and http(s) links to the allowed hosts"
    if target.startswith("/"):
        return "absolute path; use a path relative to this file"
    path = unquote(parts.path)
    repo_path = posixpath.normpath(posixpath.join(posixpath.dirname(rel), path)) if path else rel
    if repo_path == ".." or repo_path.startswith("../"):
        return "leaves the repository"
    file = ROOT / repo_path
    if file.is_dir():
        return f"is a folder; link {posixpath.join(path, 'README.md')} instead"
    if not file.is_file():
        return f"no file {repo_path} in the repository"
    if site_path(repo_path) is None:
        return (
            f"{repo_path} is not part of the documentation (README.md, docs/, "
            f"{', '.join(RESULT_DIRS)}); name it in `code` instead"
        )
    if parts.fragment:
        if not repo_path.endswith(".md"):
            return "anchor into a file that is not markdown"
        if repo_path not in anchor_cache:
            anchor_cache[repo_path] = anchors(file.read_text(encoding="utf-8"))
        if parts.fragment not in anchor_cache[repo_path]:
            return f"no heading #{parts.fragment} in {repo_path}"
    return None


def check_result_indexes() -> list[str]:
    problems = []
    for folder in RESULT_DIRS:
        index = ROOT / folder / "README.md"
        if not index.is_file():
            problems.append(f"{folder}/README.md is missing (the index of the results)")
            continue
        listed = {posixpath.normpath(t.split("#")[0]) for t in links(index.read_text())}
        for path in sorted((ROOT / folder).glob("*.md")):
            if path.name != "README.md" and path.name not in listed:
                problems.append(f"{folder}/{path.name} is not listed in {folder}/README.md")
    return problems


def main() -> int:
    anchor_cache: dict = {}
    files = doc_files()
    problems = [p for path in files for p in check_file(path, anchor_cache)]
    problems += check_result_indexes()
    for problem in problems:
        print(f"docs-check: {problem}", file=sys.stderr)
    if problems:
        print(f"docs-check: FAILED, {len(problems)} problem(s)", file=sys.stderr)
        return 1
    count = sum(len(links(path.read_text(encoding="utf-8"))) for path in files)
    print(f"docs-check: {len(files)} files, {count} links, all resolve")
    return 0


if __name__ == "__main__":
    sys.exit(main())
