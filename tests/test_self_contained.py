"""The repository stands alone: no tracked file names a path outside it (a folder beside the checkout, notes kept
elsewhere) or an environment variable pointing there. Facts from outside are stated in the repository's own words;
papers are cited by title, authors and arXiv id; the authors' release by repository, file, line and commit."""
import re, subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UP = '..' + '/'
# built from pieces so that this file does not name what it forbids
FORBIDDEN = [UP + 'shared', 'DESIGN' + '.md', 'SPEC' + '.md', 'papers' + '/', 'JMT_' + 'SHARED']
# a relative link or path a reader would follow: a Markdown link or image target, or an HTML src/href (a `../x` in a
# test of path traversal, or in the prose that explains it, is an example of a bad name, not a reference)
UP_PATH = re.compile(r'(?:\]\(|src=["\']|href=["\'])((?:\.\./)+[\w./-]*)')


def tracked_text_files():
    "Every file git tracks whose bytes read as UTF-8 text (notebooks included, binaries skipped)."
    names = subprocess.run(['git', 'ls-files', '-z'], cwd=ROOT, capture_output=True, check=True).stdout.decode().split('\0')
    for n in filter(None, names):
        p = ROOT / n
        if not p.is_file(): continue
        b = p.read_bytes()
        if b'\0' in b: continue
        try: yield n, b.decode('utf-8')
        except UnicodeDecodeError: continue


def outside_refs(name:str, text:str) -> list:
    "'file:line: what' for each place in `text` (the tracked file `name`) that names something outside the repository."
    bad, here = [], (ROOT / name).parent
    for i, line in enumerate(text.splitlines(), 1):
        bad += [f'{name}:{i}: {pat!r}' for pat in FORBIDDEN if pat in line]
        for m in UP_PATH.finditer(line):
            target = (here / m.group(1)).resolve()
            if not (target.is_relative_to(ROOT) and target.exists()):
                bad.append(f'{name}:{i}: {m.group(1)!r} leaves the repository (from {here.relative_to(ROOT)}/)')
    return bad


def test_scanner_catches_outside_paths():
    for pat in FORBIDDEN: assert outside_refs('nbs/x.ipynb', f'see `{pat}/x`'), pat
    assert outside_refs('nbs/x.ipynb', 'read [the data](' + UP + UP + 'data/x.pt)')  # two levels up from nbs/: beside the repo
    assert outside_refs('nbs/x.ipynb', '![fig](' + UP + 'notes/x.png)')                # one level up: no such folder in the repo
    assert outside_refs('README.md', '<img src="' + UP + 'x.png">')
    assert not outside_refs('nbs/x.ipynb', '![fig](' + UP + 'nbs/images/index_2.png)')  # a link that stays inside
    assert not outside_refs('nbs/x.ipynb', "safe_name('" + UP + UP + "escaped')")        # a bad name in a traversal test
    assert not outside_refs('jmt/x.py', '# %% ' + UP + 'nbs/00_core.ipynb')   # nbdev's back-pointers stay inside
    assert not outside_refs('jmt/data/x.py', '# ' + UP + UP + 'nbs/00_core.ipynb')
    assert not outside_refs('nbs/x.ipynb', 'the peers in tests/fixtures/peers/README.md')


def test_no_tracked_file_names_a_path_outside_the_repository():
    files = list(tracked_text_files())
    assert any(n.endswith('.ipynb') for n, _ in files) and any(n.startswith('tests/') for n, _ in files)
    bad = [b for n, t in files for b in outside_refs(n, t)]
    assert not bad, ('tracked files name paths outside the repository; state the fact in the repository\'s own words '
                     '(cite papers by title/authors/arXiv id, the release by file:line @ commit):\n' + '\n'.join(bad))
