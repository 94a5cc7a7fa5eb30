"""The model picker: a dropdown fed by the catalog and an effort toggle that follows the model."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets
import traitlets

from .. import catalog
from ..catalog import default_model
from ..errors import UnsupportedParameterError
from ._base import NO_EFFORT, effort_reason

__all__ = ["ModelPicker", "model_label"]


def _price(value: float | None) -> str:
    if value is None:
        return "?"
    return f"${value:.2f}" if value >= 0.1 else f"${value:g}"


def model_label(model: catalog.Model) -> str:
    """The dropdown label of a catalog record: id, reasoning or not, price hint, retirement."""
    if model.efforts:
        kind = f"reasoning, effort {' | '.join(model.efforts)}"
    elif model.reasoning:
        kind = "reasoning, fixed effort"
    else:
        kind = "no reasoning"
    label = f"{model.id} · {kind}"
    if model.input_price is not None or model.output_price is not None:
        label += f" · {_price(model.input_price)} in / {_price(model.output_price)} out per 1M"
    if model.retired:
        label = f"⚠ {label} · RETIRED {model.retired}"
        if model.served_by:
            label += f" → {model.served_by}"
    return label


class ModelPicker(widgets.VBox):  # type: ignore[misc]
    """A model dropdown fed by the catalog and an effort toggle that follows the model.

    ``.model`` and ``.reasoning_effort`` (None when the model takes no effort) are traitlets:
    set them from code, or watch them with ``picker.observe(handler, names="model")``.
    ``show_effort=False`` hides the effort row (the comparer runs every effort anyway).
    """

    model = traitlets.Unicode("")
    reasoning_effort = traitlets.Unicode(None, allow_none=True)

    def __init__(
        self,
        model: str | None = None,
        reasoning_effort: str | None = None,
        *,
        include_retired: bool = True,
        show_effort: bool = True,
        **kwargs: Any,
    ) -> None:
        self._include_retired = include_retired
        self.model_dropdown = widgets.Dropdown(
            options=self._options(),
            description="Model",
            layout=widgets.Layout(width="100%", max_width="720px"),
            style={"description_width": "64px"},
        )
        self.model_dropdown.add_class("grokbook-model")
        self.effort_buttons = widgets.ToggleButtons(
            options=[NO_EFFORT], style={"button_width": "76px"}
        )
        self.effort_buttons.add_class("grokbook-effort")
        self.effort_label = widgets.HTML(
            '<div style="text-align:right;padding-right:8px">Effort</div>',
            layout=widgets.Layout(width="72px"),
        )
        self.effort_row = widgets.HBox(
            [self.effort_label, self.effort_buttons], layout=widgets.Layout(align_items="center")
        )
        self.note = widgets.HTML()
        self.note.add_class("grokbook-model-note")
        if not show_effort:
            self.effort_row.layout.display = "none"
        super().__init__(children=[self.model_dropdown, self.effort_row, self.note], **kwargs)
        self.add_class("grokbook-picker")
        self.model_dropdown.observe(self._on_dropdown, names="value")
        self.effort_buttons.observe(self._on_toggle, names="value")
        self.model = model or default_model()
        if reasoning_effort is not None:
            self.reasoning_effort = reasoning_effort

    # -- options ------------------------------------------------------------------------
    def _options(self) -> list[tuple[str, str]]:
        models = catalog.all_models(include_retired=self._include_retired)
        active = [m for m in models if not m.retired]
        retired = [m for m in models if m.retired]
        return [(model_label(m), m.id) for m in (*active, *retired)]

    @property
    def efforts(self) -> tuple[str, ...]:
        """The efforts the chosen model takes (empty when it rejects reasoning_effort)."""
        record = catalog.get(self.model)
        return record.efforts if record is not None else ()

    # -- trait plumbing -----------------------------------------------------------------
    @traitlets.validate("model")
    def _valid_model(self, proposal: dict[str, Any]) -> str:
        value = str(proposal["value"]).strip()
        if not value:
            raise UnsupportedParameterError("model must be a model id such as 'grok-3-mini-beta'.")
        return catalog.resolve(value) or value

    @traitlets.validate("reasoning_effort")
    def _valid_effort(self, proposal: dict[str, Any]) -> str | None:
        value = catalog.canonical_effort(proposal["value"])  # "HIGH" is "high"
        if value is None:
            return None
        efforts = self.efforts
        if value not in efforts:
            allowed = " | ".join(efforts) if efforts else "none (leave it None)"
            raise UnsupportedParameterError(
                f"{self.model} does not take reasoning_effort={value!r}; allowed: {allowed}."
            )
        return str(value)

    @traitlets.observe("model")
    def _model_changed(self, change: dict[str, Any]) -> None:
        model_id: str = change["new"]
        values = [value for _, value in self.model_dropdown.options]
        if model_id not in values:
            self.model_dropdown.options = [
                *self.model_dropdown.options,
                (f"{model_id} · not in catalog", model_id),
            ]
        self.model_dropdown.value = model_id
        self._sync_efforts()

    @traitlets.observe("reasoning_effort")
    def _effort_changed(self, change: dict[str, Any]) -> None:
        value = change["new"]
        if value is not None and self.effort_buttons.value != value:
            self.effort_buttons.value = value

    def _on_dropdown(self, change: dict[str, Any]) -> None:
        if change["new"] is not None and change["new"] != self.model:
            self.model = change["new"]

    def _on_toggle(self, change: dict[str, Any]) -> None:
        value = change["new"]
        if value is not None and value != NO_EFFORT and value in self.efforts:
            self.reasoning_effort = value

    def _sync_efforts(self) -> None:
        efforts = self.efforts
        record = catalog.get(self.model)
        reason = effort_reason(self.model)
        buttons = self.effort_buttons
        if efforts:
            previous = self.reasoning_effort
            choice = (
                previous if previous in efforts else ("low" if "low" in efforts else efforts[0])
            )
            # Options first, value second: the traits validate against the new options.
            self.set_trait("reasoning_effort", None)
            buttons.options = list(efforts)
            buttons.tooltips = [f"reasoning_effort={e!r}" for e in efforts]
            buttons.tooltip = f"reasoning_effort for {self.model}"
            self.effort_label.tooltip = buttons.tooltip
            buttons.disabled = False
            buttons.value = choice
            self.reasoning_effort = choice
        else:
            self.reasoning_effort = None
            buttons.options = [NO_EFFORT]
            buttons.tooltips = [reason or ""]
            buttons.tooltip = reason
            self.effort_label.tooltip = reason
            buttons.value = NO_EFFORT
            buttons.disabled = True
        notes: list[str] = []
        if record is not None and record.description:
            notes.append(html.escape(record.description))
        if record is not None and record.retired:
            served = f" by {html.escape(record.served_by)}" if record.served_by else ""
            notes.append(
                f"<b>Retired on {html.escape(record.retired)}</b>: calls are served{served} "
                "at its prices."
            )
        if reason and (record is None or record.reasoning or not record.description):
            notes.append(html.escape(reason))
        self.note.value = (
            '<div style="font-size:0.85em;color:var(--jp-ui-font-color2,#666);'
            f'margin-left:72px">{" ".join(notes)}</div>'
        )

    # -- conveniences -------------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        """``{"model": ..., "reasoning_effort": ...}``, ready for ``client.chat(**...)``."""
        return {"model": self.model, "reasoning_effort": self.reasoning_effort}

    def __repr__(self) -> str:
        return f"ModelPicker(model={self.model!r}, reasoning_effort={self.reasoning_effort!r})"
