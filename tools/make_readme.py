"""Write README.md from nbs/index.ipynb without quarto.

Markdown cells are copied as they are; code cells are shown as Python blocks unless marked `#| echo: false` or
`#| hide`; a PNG output is written to `nbs/images/index_<cell>.png` and linked. `--check` only compares and exits 1 on
drift (the test suite calls it).
"""
import argparse, base64, re, sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
HEADER = '<!-- Generated from nbs/index.ipynb by `make readme` (tools/make_readme.py): edit the notebook, not this file. -->\n\n'


def _directives(src: str) -> set:
    return {m.group(1).strip() for m in re.finditer(r'^#\|\s*(.+)$', src, re.M)}


def render(nb_path: Path = ROOT / 'nbs' / 'index.ipynb'):
    "README text and {relative image path: bytes} rendered from the index notebook."
    nb = nbformat.read(nb_path, as_version=4)
    parts, images = [HEADER], {}
    for i, cell in enumerate(nb.cells):
        src = cell.source.strip()
        if cell.cell_type == 'markdown':
            parts.append(src + '\n\n')
            continue
        if cell.cell_type != 'code': continue
        d = _directives(src)
        if 'hide' in d: continue
        if 'echo: false' not in d:
            code = '\n'.join(l for l in src.splitlines() if not l.startswith('#|')).strip()
            if code: parts.append(f'```python\n{code}\n```\n\n')
        for out in cell.get('outputs', []):
            data = out.get('data', {})
            if 'image/png' in data:
                rel = f'nbs/images/index_{i}.png'
                images[rel] = base64.b64decode(data['image/png'])
                parts.append(f'![figure from nbs/index.ipynb]({rel})\n\n')
            elif out.get('output_type') == 'stream' or 'text/plain' in data:
                text = out.get('text') or data.get('text/plain', '')
                if text.strip(): parts.append('```\n' + text.rstrip() + '\n```\n\n')
    return ''.join(parts).rstrip() + '\n', images


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--check', action='store_true', help='exit 1 if README.md or its images are out of date')
    args = ap.parse_args(argv)
    text, images = render()
    readme = ROOT / 'README.md'
    if args.check:
        stale = [] if readme.exists() and readme.read_text(encoding='utf-8') == text else ['README.md']
        stale += [p for p, b in images.items() if not (ROOT / p).exists() or (ROOT / p).read_bytes() != b]
        if stale:
            print(f"out of date: {', '.join(stale)}; run `make readme` (python tools/make_readme.py) and commit")
            return 1
        return 0
    readme.write_text(text, encoding='utf-8')
    for p, b in images.items():
        (ROOT / p).parent.mkdir(parents=True, exist_ok=True)
        (ROOT / p).write_bytes(b)
    print(f'wrote README.md and {len(images)} image(s)')
    return 0


if __name__ == '__main__': sys.exit(main())
