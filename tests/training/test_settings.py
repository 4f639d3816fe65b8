"""The one validator of training settings (musebench.training.settings), through all three configs."""
from __future__ import annotations

import pytest

from musebench.errors import ConfigError
from musebench.training import TrainConfig
from musebench.training.seq2seq import Seq2SeqTrainConfig
from musebench.training.settings import Rule
from musebench.training.umt import UMTTrainConfig


@pytest.mark.parametrize("rule, value, message", [
    (Rule(min=1), 0, "be >= 1, not 0"),
    (Rule(above=0), 0.0, "be > 0, not 0.0"),
    (Rule(above=0, max=1), 2, "be in (0, 1], not 2"),
    (Rule(min=0, below=1), 1, "be in [0, 1), not 1"),
    (Rule(choices=("bf16", "fp32")), "fp8", "be one of bf16, fp32, not 'fp8'"),
])
def test_rules_say_what_is_wrong(rule, value, message):
    assert rule.problem(value) == message


@pytest.mark.parametrize("make, message", [
    (lambda: TrainConfig(model="lstm", learning_rate=0), r"^train lstm: learning_rate must be > 0, not 0$"),
    (lambda: TrainConfig(model="lstm", epochs=2.5), r"^train lstm: epochs must be an integer, not 2\.5$"),
    (lambda: TrainConfig(model="lstm", max_steps=0), r"^train lstm: max_steps must be >= 1, not 0$"),
    (lambda: TrainConfig(model="lstm", extra={"x": 1}), r"^train lstm: unknown extra setting 'x' \(it takes no"),
    (lambda: Seq2SeqTrainConfig(model="mt3", label_smoothing=1.0),
     r"^train mt3: label_smoothing must be in \[0, 1\), not 1\.0$"),
    (lambda: Seq2SeqTrainConfig(precision="fp8"), r"^train seq2seq-piano: precision must be one of bf16, fp32"),
    (lambda: Seq2SeqTrainConfig(extra={"validation_max_token": 8}),
     r"unknown extra setting 'validation_max_token'; did you mean 'validation_max_tokens'\?$"),
    (lambda: UMTTrainConfig(lr_decay=1.5), r"^train umt: lr_decay must be in \(0, 1\], not 1\.5$"),
    (lambda: UMTTrainConfig(domains="piano"), r"^train umt: domains must be a list, not 'piano'$"),
    (lambda: UMTTrainConfig(augment="yes"), r"^train umt: augment must be true or false, not 'yes'$"),
])
def test_bad_values_are_one_line_errors(make, message):
    with pytest.raises(ConfigError, match=message) as info:
        make().check()
    assert "\n" not in str(info.value)


def test_from_dict_refuses_unknown_keys_with_close_matches():
    with pytest.raises(ConfigError, match=r"^train umt: unknown setting 'lambda_confuson'; did you mean "
                                          r"'lambda_confusion'\?$"):
        UMTTrainConfig.from_dict({"lambda_confuson": 0.1})
    with pytest.raises(ConfigError, match=r"^train mt3: unknown setting 'stpes'; did you mean 'steps'"):
        Seq2SeqTrainConfig.from_dict({"model": "mt3", "stpes": 3})
    config = Seq2SeqTrainConfig(model="mt3", steps=7)
    assert Seq2SeqTrainConfig.from_dict(config.to_dict()) == config  # a checkpoint's recorded config reads back
    assert TrainConfig.from_dict({"model": "conv-lstm", "epochs": 3}).epochs == 3


def test_defaults_pass():
    TrainConfig(model="lstm").check()
    Seq2SeqTrainConfig().check()
    UMTTrainConfig().check()


def test_unknown_network_setting_is_refused_when_the_network_is_built():
    pytest.importorskip("torch")
    from musebench.training.seq2seq.loop import make_net_config

    with pytest.raises(ConfigError, match=r"^train seq2seq-piano: unknown network setting 'd_modle'; did you mean "
                                          r"'d_model'\?$"):
        make_net_config(Seq2SeqTrainConfig(extra={"network": {"d_modle": 8}}), 366)
