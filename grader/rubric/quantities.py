"""The quantities of a network problem, in one table: for each rubric id (``yhat``,
``dW``, ...), its name in a sentence, how its entries are named in the homework's
notation, what a handout asks for, and where it sits in the network.

Every place that names a quantity reads it here: the feedback's sentences
(``grading/review/sentences.py``), the names of entries (``grading/display.py``), the
handouts (``render/handout.py``), the solver's graph nodes (``solver/network.py``,
``solver/key.py``) and the rubric's checks (``rubric/load.py``). It sits with the rubric,
below all of them, and imports nothing of the grader.

The homework's notation: layer l computes a_l = W_l·[1; h_(l−1)] and h_l = f(a_l) from
its input h_(l−1), which is x at the first layer (h_0 = x); ŷ = h_L; δ_l = ∂L/∂a_l;
∂L/∂w_jk = δ_j·(the input's entry k), the bias column k = 0. The one-hidden-layer
shorthand calls layer 1's activations z and layer 2's weights v.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

EntryKind = Literal["unit", "weight", "weights", "none"]
"""How a quantity's entries are named: ``unit`` one per unit j = 1, 2, … (z₂, δ₁, ŷ₂);
``weight`` one per weight of a vector, k = 0 the bias (∂L/∂v₀); ``weights`` one per weight
of a matrix, row j = 1, 2, …, column k = 0 the bias (∂L/∂w₁₂); ``none``: a number."""


@dataclass(frozen=True)
class Quantity:
    """One quantity of a network problem."""

    name: str
    """Its id in a rubric (``quantity: dW``)."""
    words: str
    """How a sentence names the whole answer ("Your ∂L/∂v has ...")."""
    asked: str
    """What a handout asks for; ``{h}`` the hidden units, ``{n}`` the inputs, ``{l}`` the
    layer."""
    entry: str = ""
    """The symbol an entry's subscript follows (∂L/∂w for ∂L/∂w₁₂); ∂L/ is written with
    the answer's own loss letter (∂E/∂v₀ where the title says ∂E/∂v)."""
    entries: EntryKind = "none"
    gradient: bool = False
    """A derivative of the loss (∂L/∂ŷ, ∂L/∂v, ∂L/∂W)."""
    per_layer: bool = False
    """Asked of one layer (``layer: l``) in a network given by layers."""
    layered_as: str = ""
    """The layered quantity it is (the shorthand's ``dv`` is ``dW`` of the output layer);
    its own name where it is one."""
    shorthand_layer: int | None = None
    """Which layer it is of in the one-hidden-layer shorthand (1 hidden, 2 output; None:
    not of one layer)."""
    asked_by_layer: str = ""
    """What a handout asks for when the answer gives a layer (``{l}``), if not ``asked``."""
    after_step: bool = False
    """Weights after the training step: no example, graded against the starting weights."""

    @property
    def shorthand_only(self) -> bool:
        """A name of the one-hidden-layer shorthand only (``hidden``, ``dv``, ``v_after``)."""
        return self.layered_as != self.name


def _table(*quantities: Quantity) -> dict[str, Quantity]:
    return {
        each.name: each if each.layered_as else replace(each, layered_as=each.name)
        for each in quantities
    }


QUANTITIES: dict[str, Quantity] = _table(
    Quantity("yhat", "ŷ", "ŷ", "ŷ", "unit"),
    Quantity("dL_dyhat", "∂L/∂ŷ", "∂L/∂ŷ", "∂L/∂ŷ", "unit", gradient=True),
    Quantity("loss", "loss", "L"),
    Quantity(
        "hidden",
        "hidden activations z",
        "z = (z_1, …, z_{h})",
        "z",
        "unit",
        layered_as="activation",
        shorthand_layer=1,
    ),
    Quantity(
        "dv",
        "∂L/∂v",
        "∂L/∂v = (∂L/∂v_0, …, ∂L/∂v_{h})",
        "∂L/∂v",
        "weight",
        gradient=True,
        layered_as="dW",
        shorthand_layer=2,
    ),
    Quantity(
        "dW",
        "∂L/∂W",
        "∂L/∂W, row j = (∂L/∂w_j0, …, ∂L/∂w_j{n})",
        "∂L/∂w",
        "weights",
        gradient=True,
        per_layer=True,
        shorthand_layer=1,
        asked_by_layer="∂L/∂W_{l}, row j = (∂L/∂w_j0, …)",
    ),
    Quantity(
        "preactivation",
        "pre-activations a",
        "the pre-activations a_l of layer {l}",
        "a",
        "unit",
        per_layer=True,
    ),
    Quantity(
        "activation",
        "activations h",
        "the activations h_l of layer {l}",
        "h",
        "unit",
        per_layer=True,
    ),
    Quantity("delta", "δ = ∂L/∂a", "δ_l = ∂L/∂a_l of layer {l}", "δ", "unit", per_layer=True),
    Quantity(
        "W_after",
        "weights after the step",
        "the weights of layer {l} after training",
        "w",
        "weights",
        per_layer=True,
        shorthand_layer=1,
        after_step=True,
    ),
    Quantity(
        "v_after",
        "output weights after the step",
        "the output weights v after training",
        "v",
        "weight",
        layered_as="W_after",
        shorthand_layer=2,
        after_step=True,
    ),
    Quantity("loss_after", "loss after the step", "L after training"),
)
"""Every quantity of a network problem, by its rubric id, in the rubric's order."""


SHORTHAND_NAMES: dict[tuple[str, int], str] = {
    (quantity.layered_as, quantity.shorthand_layer): quantity.name
    for quantity in QUANTITIES.values()
    if quantity.shorthand_layer is not None
}
"""The shorthand's name of a layer's quantity: (``activation``, 1) is ``hidden``,
(``dW``, 2) is ``dv``; (``dW``, 1) keeps its name."""


def input_symbol(layer: int) -> str:
    """The letter of a layer's input: x at the first layer, h (the activations of the
    layer below) above it."""
    return "x" if layer <= 1 else "h"
