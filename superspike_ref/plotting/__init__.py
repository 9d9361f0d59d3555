"""Plots (the only subpackage that imports matplotlib): panels and whole figures, drawn from arrays.

Every panel function takes an optional ``ax`` and returns it, so that notebooks and scripts
can compose figures. Arrays are SI and time-major; axes show ms and mV. The figure functions
receive arrays and names from the experiments' ``figure()`` and import no experiment.

* :mod:`~superspike_ref.plotting.panels`: rasters, membranes, errors, learning curves;
* :mod:`~superspike_ref.plotting.figs_2_5`: the demo and Figs 2, 4 and 5;
* :mod:`~superspike_ref.plotting.figs_6_8`: Figs 6, 7 and 8 and the picture task.
"""
from .figs_2_5 import demo_figure, fig2_figure, fig4_figure, fig5_figure
from .figs_6_8 import fig6_figure, fig7_figure, fig8_figure, picture_animation, picture_figure
from .panels import (plot_error, plot_learning_curve, plot_learning_curves, plot_membrane, plot_membranes, plot_raster,
                     plot_snapshot, plot_spike_timing)

__all__ = [
    "plot_raster",
    "plot_membrane",
    "plot_error",
    "plot_learning_curve",
    "plot_snapshot",
    "plot_learning_curves",
    "plot_spike_timing",
    "fig2_figure",
    "plot_membranes",
    "fig4_figure",
    "fig5_figure",
    "demo_figure",
    "fig6_figure",
    "fig7_figure",
    "fig8_figure",
    "picture_figure",
    "picture_animation",
]
