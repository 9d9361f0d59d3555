"""Tests of superspike_ref.params (SPEC §1)."""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from superspike_ref.params import Params, whole_steps

FLOAT_FIELDS = [f.name for f in dataclasses.fields(Params)]
TIME_CONSTANTS = ["tau_mem_s", "tau_syn_s", "tau_rise_s", "tau_decay_s", "tau_rms_s", "tau_het_s"]


def test_defaults_are_spec_table():
    p = Params()
    expected = dict(
        dt_s=1e-4, tau_mem_s=10e-3, tau_syn_s=5e-3, u_rest_V=-60e-3, theta_V=-50e-3, t_ref_s=5e-3,
        delay_s=0.8e-3, tau_rise_s=5e-3, tau_decay_s=10e-3, beta_per_V=1e3, u_cut_V=None, t_batch_s=0.5,
        r0=1e-3, tau_rms_s=30.0, eps=1e-12, w_min_V=-0.1, w_max_V=0.1, rho=0.0, a=4.0, tau_het_s=0.1,
        e_gate=0.0,
    )
    assert p.to_dict() == expected


def test_derived_step_counts_and_gamma():
    p = Params()
    assert (p.n_ref, p.n_delay, p.n_batch) == (50, 8, 5000)
    assert all(isinstance(n, int) for n in (p.n_ref, p.n_delay, p.n_batch))
    assert p.gamma == pytest.approx(math.exp(-0.5 / 30.0), rel=1e-15)
    assert round(p.gamma, 5) == 0.98347  # docs/paper.md §"Numbers to check against"
    assert p.decay(p.tau_syn_s) == math.exp(-1e-4 / 5e-3)


def test_zero_refractory_and_delay_allowed():
    p = Params(t_ref_s=0.0, delay_s=0.0)
    assert p.n_ref == 0 and p.n_delay == 0


def test_frozen():
    p = Params()
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.dt_s = 2e-4  # type: ignore[misc]


def test_replace_validates_and_keeps_others():
    p = Params().replace(r0=5e-4)
    assert p.r0 == 5e-4 and p.tau_mem_s == 10e-3
    with pytest.raises(ValueError, match="tau_mem_s"):
        Params().replace(tau_mem_s=1e-4)


def test_dict_round_trip():
    p = Params(rho=0.3, u_cut_V=-80e-3, t_batch_s=0.01, e_gate=5e-6)
    assert Params.from_dict(p.to_dict()) == p
    assert Params.from_dict({}) == Params()


def test_from_dict_rejects_unknown_names():
    with pytest.raises(ValueError, match="tau_membrane"):
        Params.from_dict({"tau_membrane": 0.01, "dt_s": 1e-4})


def test_non_numbers_rejected():
    with pytest.raises(TypeError, match="dt_s"):
        Params(dt_s="1e-4")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="rho"):
        Params(rho=True)  # type: ignore[arg-type]


# every invalid parameter of SPEC §1, with the name the message must contain
BAD = (
    [({name: 1e-4}, name) for name in TIME_CONSTANTS]             # equal to dt: not larger
    + [({name: 5e-5}, name) for name in TIME_CONSTANTS]           # smaller than dt
    + [({name: -1.0}, name) for name in TIME_CONSTANTS]           # negative
    + [
        ({"dt_s": 0.0}, "dt_s"),
        ({"dt_s": -1e-4}, "dt_s"),
        ({"tau_rise_s": 10e-3}, "tau_rise_s"),                    # == tau_decay_s
        ({"tau_rise_s": 7e-3, "tau_decay_s": 7e-3}, "tau_decay_s"),
        ({"t_batch_s": 0.0}, "t_batch_s"),
        ({"t_batch_s": -0.5}, "t_batch_s"),
        ({"t_ref_s": -1e-4}, "t_ref_s"),
        ({"delay_s": -1e-4}, "delay_s"),
        ({"w_min_V": 0.1}, "w_min_V"),                            # == w_max_V
        ({"w_min_V": 0.2}, "w_min_V"),
        ({"w_max_V": -0.2}, "w_max_V"),
        ({"t_ref_s": 5.05e-3}, "t_ref_s"),                        # 50.5 steps
        ({"delay_s": 0.85e-3}, "delay_s"),                        # 8.5 steps
        ({"t_batch_s": 0.50005}, "t_batch_s"),                    # 5000.5 steps
        ({"t_batch_s": 0.4e-4}, "t_batch_s"),                     # 0.4 steps
        ({"dt_s": 3e-4}, "t_ref_s"),                              # 5 ms is 16.7 steps of 0.3 ms
        ({"r0": -1e-3}, "r0"),
        ({"eps": -1e-12}, "eps"),
        ({"eps": 0.0}, "eps must be > 0"),                        # 0/0 for a synapse without gradient
        ({"eps": 0}, "eps must be > 0"),
        ({"a": -1.0}, "a must be >= 0"),                          # zh**a infinite for a silent neuron
        ({"tau_rise_s": 0.009949916247342209}, "tau_rise_s"),     # exp(-dt/tau_rise) == 1 - dt/tau_decay: 0/0
        ({"tau_rise_s": 0.00995}, "ill-conditioned"),             # nearly so: the kernel energy is garbage
        ({"tau_rise_s": 0.0099999}, "tau_decay_s"),               # tau_rise ~ tau_decay (continuous forms)
        ({"tau_decay_s": 1e20}, "tau_decay_s"),                   # 1 - dt/tau_decay == 1.0: division by 0
        ({"tau_rise_s": 1e20}, "tau_rise_s"),                     # exp(-dt/tau_rise) == 1.0
        ({"dt_s": 10**400}, "dt_s must be finite"),               # an int beyond the float range
        ({"dt_s": 1.6118376992069978e-22}, "tau_rise_s"),         # both kernel factors round to 1 (found by hypothesis)
        ({"t_batch_s": 1e300, "dt_s": 1e-300, "t_ref_s": 0.0, "delay_s": 0.0, "tau_mem_s": 1.0, "tau_syn_s": 1.0,
          "tau_rise_s": 2e-300, "tau_decay_s": 5e-300, "tau_rms_s": 1.0, "tau_het_s": 1.0}, "t_batch_s=1e\\+300 s is too many"),
        ({"tau_rise_s": 1.3407807929942597e+154}, "tau_rise_s"),   # (tau_decay - tau_rise)**2 would overflow
        ({"rho": -0.1}, "rho"),
        ({"beta_per_V": -1e3}, "beta_per_V"),
        ({"e_gate": -5e-6}, "e_gate"),
    ]
    + [({name: bad}, name) for name in FLOAT_FIELDS for bad in (math.nan, math.inf, -math.inf)]
)


@pytest.mark.parametrize("changes, name", BAD, ids=[f"{c}" for c, _ in BAD])
def test_invalid_parameter_names_itself(changes, name):
    with pytest.raises(ValueError, match=name):
        Params(**changes)


@pytest.mark.parametrize("changes, name", BAD[:12], ids=[f"{c}" for c, _ in BAD[:12]])
def test_invalid_parameter_from_dict(changes, name):
    with pytest.raises(ValueError, match=name):
        Params.from_dict(changes)


def test_numpy_nan_rejected():
    with pytest.raises(ValueError, match="theta_V"):
        Params(theta_V=np.float64("nan"))


def test_whole_steps():
    assert whole_steps(0.5, 1e-4, "x") == 5000
    assert whole_steps(0.8e-3, 1e-4, "x") == 8      # 7.999999999999999 in floating point
    assert whole_steps(0.0, 1e-4, "x") == 0
    with pytest.raises(ValueError, match="my_duration_s"):
        whole_steps(0.00015, 1e-4, "my_duration_s")


@pytest.mark.parametrize(
    "args, error, match",
    [
        ((math.inf, 1e-4), ValueError, "my_duration_s must be finite"),
        ((math.nan, 1e-4), ValueError, "my_duration_s must be finite"),
        ((-math.inf, 1e-4), ValueError, "my_duration_s must be finite"),
        ((10**400, 1e-4), ValueError, "my_duration_s must be finite"),
        ((1.0, math.inf), ValueError, "dt_s must be finite"),
        ((1.0, 0.0), ValueError, "dt_s must be > 0"),
        ((1.0, -1e-4), ValueError, "dt_s must be > 0"),
        ((1e300, 1e-300), ValueError, "my_duration_s=1e\\+300 s is too many time steps"),
        (("1.0", 1e-4), TypeError, "my_duration_s must be a real number"),
        ((True, 1e-4), TypeError, "my_duration_s"),
        ((1.0, None), TypeError, "dt_s"),
    ],
)
def test_whole_steps_rejects_non_finite_and_bad_arguments(args, error, match):
    with pytest.raises(error, match=match):
        whole_steps(*args, "my_duration_s")


def test_kernel_limits_are_documented_values():
    assert Params(tau_rise_s=0.009999).tau_rise_s == 0.009999      # 0.01 % apart: fine
    assert Params(tau_rise_s=0.0099).tau_rise_s == 0.0099          # the factors differ enough
    assert Params(tau_decay_s=1e5).tau_decay_s == 1e5               # 1e9 dt_s
    assert Params(a=0.0).a == 0.0 and Params(eps=5e-324).eps == 5e-324


def test_tiny_batch_rejected():
    with pytest.raises(ValueError, match="t_batch_s"):
        Params(t_batch_s=1e-14)
