"""Rebuilding the edit form after a save that did not go through, for the next try.

Next to the form (forms.py) rather than in the view: what a rebuilt form holds decides what the next
save sends, so it is part of the edit's logic, not of its rendering.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django.http import QueryDict

from dashboard.audit.log import Action
from dashboard.zstack.errors import ZStackError

from . import changes, selectors, submissions, wording
from .forms import StorageEditForm, join_tags, sign_snapshot

if TYPE_CHECKING:
    from .services import StaleForm, WriteProgress


def review_form(post: QueryDict, uuid: str, form: StorageEditForm, stale: StaleForm) -> StorageEditForm:
    """The stale form for review: the user's edits stay, every field they left alone shows ZStack's
    current value, and the snapshot is fresh. Saving it again sends only the user's edits; a field they
    never touched still holding its old value would count as an edit and undo a colleague's change."""
    data = post.copy()
    edited = changes.edited_fields(form.loaded_values, form.values)
    for field, value in stale.current_values.items():
        if field not in edited:
            data[field] = join_tags(value) if field in changes.TAG_FIELDS else ("" if value is None else str(value))
    data["loaded"] = sign_snapshot(uuid, stale.current_values)
    data["submission"] = submissions.new_token(uuid, Action.UPDATE)
    return StorageEditForm(data, uuid=uuid)


def form_again(post: QueryDict, uuid: str, progress: WriteProgress | None = None) -> StorageEditForm:
    """The submitted form once more, for another try: the input kept, a new submission token, and, after a
    partial save, a snapshot of ZStack's values now, so the next save sends only what is still to do."""
    data = post.copy()
    data["submission"] = submissions.new_token(uuid, Action.UPDATE)
    if progress is not None and progress.changed:
        try:
            storage, tags = selectors.storage_for_edit(uuid=uuid)
            data["loaded"] = sign_snapshot(uuid, changes.editable_values(storage, tags))
        except ZStackError:
            pass  # the old snapshot: the next save may find a conflict, which it explains
    form = StorageEditForm(data, uuid=uuid)
    if progress is not None and form.is_valid():
        for part in progress.failed_parts:
            for change in part.changes:
                form.add_error(change["field"], wording.part_field_error(part))
    return form


def with_fresh_token(form: StorageEditForm, uuid: str) -> StorageEditForm:
    """An invalid form whose submission token was refused: the next try needs one that is still valid."""
    data = cast(QueryDict, form.data).copy()  # the request's POST: a QueryDict
    data["submission"] = submissions.new_token(uuid, Action.UPDATE)
    form.data = data
    return form
