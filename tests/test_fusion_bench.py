"""The benchmark's reference (stock nn.TransformerEncoderLayer + nn.MultiheadAttention) is the same function as our
release_fc preset once weights are copied, so the timing compares like with like (the timing itself is not a test)."""
import torch

from jmt.models.registry import make_model

def test_reference_equals_release_preset(load_script):
    b = load_script('bench/fusion_step.py')
    torch.manual_seed(0)
    ref, ours = b.RefJMT(), make_model('jmt', preset='release_fc')
    assert sum(p.numel() for p in ref.parameters()) == sum(p.numel() for p in ours.parameters()) == 11_820_034
    b.copy_ref_to_ours(ref, ours)
    x = {m: torch.randn(2, 16, 512) for m in b.MODS}
    y = torch.rand(2, 16, 2) * 2 - 1
    torch.testing.assert_close(ours(x), ref(x), atol=1e-5, rtol=1e-4)
    b.make_step(ours, x, y)(); b.make_step(ref, x, y)()  # one SGD step each, same update
    torch.testing.assert_close(ours(x), ref(x), atol=1e-5, rtol=1e-4)
