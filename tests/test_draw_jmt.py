"""`draw_jmt` (31_models.jmt) draws a JMT from the model object: its boxes are the model's own sources, pairs, tokens and targets."""
import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt
import pytest
from matplotlib.figure import Figure

from jmt.models.jmt import JMT, Head, draw_jmt


def _gids(fig, kind):
    return [g.split(':', 1)[1] for p in fig.axes[0].patches if (g := p.get_gid() or '').startswith(kind + ':')]


@pytest.mark.parametrize('kw', [dict(), dict(head='fc'), dict(joint=False), dict(shared_cross=False, n_targets=3),
                                dict(mods=('visual', 'audio', 'bio'), head='fc')], ids=str)
def test_draw_jmt_boxes_are_the_models(kw):
    net = JMT(d_in=8, d=16, d_ff=16, head_hidden=32, head_target=8, **kw)
    fig = draw_jmt(net)
    try:
        assert isinstance(fig, Figure)
        assert _gids(fig, 'source') == list(net.srcs)
        assert _gids(fig, 'encoder') == list(net.srcs)
        assert _gids(fig, 'cross') == [f'{q}←{k}' for q, k in net.pairs]
        pairs = net.tokens if net.tokens is not None else net.pairs
        assert _gids(fig, 'token' if net.tokens is not None else 'concat') == [f'{q}←{k}' for q, k in pairs]
        n = kw.get('n_targets', 2)
        assert _gids(fig, 'target') == [str(i) for i in range(n)]
    finally:
        plt.close(fig)


def test_draw_jmt_refuses_other_models():
    with pytest.raises(TypeError, match='draws a JMT'): draw_jmt(Head())
