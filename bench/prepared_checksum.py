"""What verifying every prepared file's SHA-256 on a re-run costs: measured on the synthetic Aff-Wild2, extrapolated to the
real one from the prepared audio's format (16-bit mono PCM at 44.1 kHz: 88.2 kB per second of video).

    python bench/prepared_checksum.py [--n_videos 8] [--n_frames 240] [--frames 2.9e6] [--fps 30]
"""
import argparse, os, tempfile, time, warnings
from pathlib import Path

os.environ.setdefault('OMP_NUM_THREADS', '1')


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--n_videos', type=int, default=8); ap.add_argument('--n_frames', type=int, default=240)
    ap.add_argument('--frames', type=float, default=2.9e6, help="Aff-Wild2 VA's frames (persons' frames: an upper bound of the videos')")
    ap.add_argument('--fps', type=float, default=30.)
    a = ap.parse_args()
    from jmt.core import file_sha256
    from jmt.data.decode import AUDIO_SETTINGS
    from jmt.data.affwild2.prepare import prepare_affwild2
    from jmt.data.affwild2.synthetic import write_synthetic_affwild2
    with tempfile.TemporaryDirectory() as d, warnings.catch_warnings():
        warnings.simplefilter('ignore')
        d = Path(d); write_synthetic_affwild2(d/'raw', n_videos=a.n_videos, n_frames=a.n_frames)
        prepare_affwild2(d/'raw', d/'prep', progress=False)
        files = [p for p in sorted((d/'prep').rglob('*')) if p.is_file()]
        size = sum(p.stat().st_size for p in files)
        big = d/'big.bin'; big.write_bytes(os.urandom(256 << 20))  # the synthetic set is small: a steady rate needs more bytes
        t = time.process_time(); [file_sha256(p) for p in files]; t_prep = time.process_time() - t
        t = time.process_time(); file_sha256(big); t_big = time.process_time() - t  # CPU time: the machine is shared
        t = time.perf_counter(); prepare_affwild2(d/'raw', d/'prep', progress=False); t_rerun = time.perf_counter() - t
    rate = (256 << 20) / t_big
    audio_bytes = a.frames / a.fps * AUDIO_SETTINGS['sr'] * 2  # int16 mono
    print(f"synthetic prepared folder: {len(files)} files, {size / 1e6:.2f} MB, SHA-256 of all of it {t_prep * 1e3:.0f} ms CPU; "
          f"a whole re-run (checksums included) {t_rerun:.2f} s")
    print(f"SHA-256 rate (256 MiB, page cache): {rate / 1e6:.0f} MB per CPU-second")
    print(f"Aff-Wild2: {a.frames:.3g} frames at {a.fps:g} fps = {a.frames / a.fps / 3600:.1f} h; prepared audio (int16, "
          f"{AUDIO_SETTINGS['sr']} Hz, mono) at most {audio_bytes / 1e9:.2f} GB -> {audio_bytes / rate:.0f} s of SHA-256 per re-run "
          "(plus reading it from disk)")


if __name__ == '__main__': main()
