"""mkdocs hooks (mkdocs.yml `hooks:`): the site is README.md and docs/ plus the dated results.

README.md becomes the home page (index.md) and bench/results/, faults/results/ become
results/bench/, results/faults/ (their markdown as pages outside the nav, the rest as
files). Links in every page are repository paths relative to the page's own file; they are
rewritten to the site's paths, so one link works both in the repository and on the site,
and mkdocs's own validation (strict) then checks every one of them.
"""

import posixpath

from docs_links import RESULT_DIRS, ROOT, rewrite_links, site_path
from mkdocs.structure.files import File, InclusionLevel

_repo_path_of: dict[str, str] = {}  # site path -> repository path, for the pages we add


def on_files(files, config):
    added = [("README.md", ROOT / "README.md")]
    for folder in RESULT_DIRS:
        added += [(f"{folder}/{p.name}", p) for p in sorted((ROOT / folder).iterdir())]
    for repo_path, source in added:
        uri = site_path(repo_path)
        if files.get_file_from_path(uri) is not None:
            raise ValueError(f"docs/{uri} would hide {repo_path}: remove one of them")
        inclusion = InclusionLevel.UNDEFINED if uri == "index.md" else InclusionLevel.NOT_IN_NAV
        if uri.endswith("README.md"):  # the results indexes are in the nav
            inclusion = InclusionLevel.UNDEFINED
        files.append(File.generated(config, uri, abs_src_path=str(source), inclusion=inclusion))
        _repo_path_of[uri] = repo_path
    return files


def on_page_markdown(markdown, page, config, files):
    uri = page.file.src_uri
    repo_path = _repo_path_of.get(uri, f"docs/{uri}")

    def to_site(target: str) -> str:
        path, hash_, anchor = target.partition("#")
        if not path or "://" in path or path.startswith(("/", "mailto:")):
            return target
        linked = site_path(posixpath.normpath(posixpath.join(posixpath.dirname(repo_path), path)))
        if linked is None:
            return target  # mkdocs reports it: the site has no such page
        return posixpath.relpath(linked, posixpath.dirname(uri) or ".") + hash_ + anchor

    return rewrite_links(markdown, to_site)
