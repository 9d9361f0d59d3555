"""Paper-figure experiments: one module per figure, a common result format, checkpoints.

Each module offers ``run(quick=False, seeds=None, out=None, resume=False, ...)`` returning an
:class:`~superspike_ref.experiments.common.ExperimentResult`, and ``figure(result)``.
The command line is ``python -m superspike_ref reproduce FIG [--quick] [--seeds N] [--out DIR] [--resume | --force]``
(:mod:`~superspike_ref.experiments.reproduce`); ``reproduce all`` runs every figure and checks the paper's claims on
the results (:mod:`~superspike_ref.experiments.claims`).
Figures made of independent jobs (:mod:`~superspike_ref.experiments.jobs`: Figs 5, 7, 8 and the picture task)
also take ``workers=N`` / ``--workers N`` and ``scheduler=ADDRESS`` / ``--scheduler ADDRESS`` (docs/cluster.md).
"""
from . import fig2, fig4, fig5, fig6, fig7, fig8, picture

EXPERIMENTS = {"fig2": fig2, "fig4": fig4, "fig5": fig5, "fig6": fig6, "fig7": fig7, "fig8": fig8,
               "picture": picture}

__all__ = ["EXPERIMENTS"]
