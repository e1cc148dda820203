"""Forms validate and normalise; nothing else. Limits mirror ZStack's own (docs/zstack-protocol.md §4.2)."""

from __future__ import annotations

import re

from django import forms
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_ipv46_address
from django.utils.translation import gettext_lazy as _

from dashboard.audit.labels import FIELD_LABELS
from dashboard.audit.log import Action

from .changes import EDITABLE_FIELDS
from .selectors import QUERY_BREAKERS
from .submissions import new_token, read_token

# What the console accepts as a ZStack uuid in a URL or a filter: 32 hex characters, with a little room,
# but never a query operator's character (docs/zstack-protocol.md §6.2).
RESOURCE_UUID = r"[0-9A-Za-z_-]{1,64}"
NAME_MAX = 255  # name, hostname, username, password (UpdateImageStoreBackupStorageAction @Param)
DESCRIPTION_MAX = 2048
PORT_MIN, PORT_MAX = 1, 65535
# A tag is one row of ZStack's SystemTagVO / UserTagVO, whose `tag` column is varchar(2048)
# (docs/zstack-protocol.md §4.7). ZStack's own tags read key::value (priority::high, env::prod).
TAG_MAX = 2048
# Control characters (tabs, escapes, NUL…) never belong in a tag: ZStack's query syntax and its SQL
# columns take plain text, and a tag is one line of the form.
PORT_RULE = _("SSH port must be between 1 and 65535.")
TAGS_HELP = _("One tag per line, usually key::value (for example env::prod); at most 2048 characters each.")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# RFC 1123 labels: letters, digits and inner hyphens, 1-63 characters; 253 characters in all.
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_SNAPSHOT_SALT = "storages.edit.loaded"

STATES = (("Enabled", _("Enabled")), ("Disabled", _("Disabled")))
STATUSES = (("Connecting", _("Connecting")), ("Connected", _("Connected")), ("Disconnected", _("Disconnected")))
SORT_FIELDS = {
    "name": _("Name"),
    "totalCapacity": _("Total capacity"),
    "availableCapacity": _("Available capacity"),
    "lastOpDate": _("Last changed"),
    # Not a ZStack field: ranked by our latest capacity snapshot (selectors.storage_list, USED_PERCENT).
    "usedPercent": _("Used %"),
}
CAPACITY_LEVELS = (
    ("warning", _("At or above warning")),
    ("critical", _("At or above critical")),
)
PAGE_SIZES = (10, 25, 50, 100)
DEFAULT_PAGE_SIZE = 25
DEFAULT_SORT = "name"


def validate_host(value: str) -> None:
    """A host name (RFC 1123) or an IPv4/IPv6 address."""
    try:
        validate_ipv46_address(value)
        return
    except ValidationError:
        pass
    name = value[:-1] if value.endswith(".") else value
    looks_numeric = re.fullmatch(r"[0-9.]+", name) is not None  # 10.0.0.999 is a bad IP, not a name
    if looks_numeric or len(name) > 253 or not all(_LABEL.match(label) for label in name.split(".")):
        raise ValidationError(_("Enter a valid host name or IP address."), code="invalid_host")


def split_tags(text: str) -> tuple[str, ...]:
    """One tag per line, each trimmed; empty and repeated lines are errors, not silently dropped."""
    if not text.strip():
        return ()
    tags: list[str] = []
    errors: list[ValidationError] = []
    for number, line in enumerate(text.strip().splitlines(), start=1):
        tag = line.strip()
        if not tag:
            errors.append(ValidationError(_("Line %(line)s is empty."), code="empty_tag", params={"line": number}))
        elif "\x00" in tag:  # Django's null-character check sees the tuple, not each tag; PostgreSQL refuses NUL
            errors.append(
                ValidationError(
                    _("Line %(line)s contains a null character."), code="null_characters", params={"line": number}
                )
            )
        elif _CONTROL.search(tag):
            errors.append(
                ValidationError(
                    _("Line %(line)s contains a control character (such as a tab): a tag is plain text on one line."),
                    code="control_characters",
                    params={"line": number},
                )
            )
        elif len(tag) > TAG_MAX:
            errors.append(
                ValidationError(
                    _("Line %(line)s is %(length)s characters long: ZStack keeps tags of at most %(max)s characters."),
                    code="tag_too_long",
                    params={"line": number, "length": len(tag), "max": TAG_MAX},
                )
            )
        elif tag in tags:
            errors.append(
                ValidationError(
                    _("Line %(line)s repeats the tag “%(tag)s”."),
                    code="duplicate_tag",
                    params={"line": number, "tag": tag},
                )
            )
        else:
            tags.append(tag)
    if errors:
        raise ValidationError(errors)
    return tuple(tags)


def join_tags(tags) -> str:
    return "\n".join(tags)


class TagsField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "autocapitalize": "off"})

    def to_python(self, value):
        return split_tags(super().to_python(value) or "")

    def prepare_value(self, value):
        if isinstance(value, (list, tuple)):
            return join_tags(value)
        return value


def sign_snapshot(uuid: str, values: dict) -> str:
    """The hidden ``loaded`` input: the editable values as the form was loaded (never the password),
    signed so the service can trust what the user started from."""
    return signing.dumps(
        {"uuid": uuid, "values": {f: values.get(f) for f in EDITABLE_FIELDS}}, salt=_SNAPSHOT_SALT, compress=True
    )


class StorageEditForm(forms.Form):
    """Exactly the documented update fields, named as the API names them (docs/architecture.md §4), and the
    signed snapshot of their values when the form was loaded (``loaded``), for the stale-form check."""

    def __init__(self, *args, uuid: str = "", **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.uuid = uuid

    @classmethod
    def for_storage(cls, uuid: str, values: dict) -> StorageEditForm:
        """Unbound, prefilled with ZStack's values (changes.editable_values) and their snapshot."""
        return cls(
            initial={**values, "loaded": sign_snapshot(uuid, values), "submission": new_token(uuid, Action.UPDATE)},
            uuid=uuid,
        )

    # Each message states the rule (ZStack's limit), not Django's stock "Ensure this value…".
    name = forms.CharField(
        label=FIELD_LABELS["name"],
        max_length=NAME_MAX,
        error_messages={
            "required": _("Enter a name."),
            "max_length": _("The name must be at most %(limit_value)d characters (it has %(show_value)d)."),
        },
    )
    description = forms.CharField(
        label=FIELD_LABELS["description"],
        max_length=DESCRIPTION_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "max_length": _("The description must be at most %(limit_value)d characters (it has %(show_value)d)."),
        },
    )
    hostname = forms.CharField(
        label=FIELD_LABELS["hostname"],
        max_length=NAME_MAX,
        validators=[validate_host],
        widget=forms.TextInput(attrs={"autocapitalize": "off", "spellcheck": "false"}),
        error_messages={
            "required": _("Enter the host name or IP address ZStack reaches the storage at."),
            "max_length": _("The hostname must be at most %(limit_value)d characters (it has %(show_value)d)."),
        },
    )
    username = forms.CharField(
        label=FIELD_LABELS["username"],
        max_length=NAME_MAX,
        widget=forms.TextInput(attrs={"autocapitalize": "off", "spellcheck": "false", "autocomplete": "off"}),
        error_messages={
            "required": _("Enter the SSH user."),
            "max_length": _("The SSH user must be at most %(limit_value)d characters (it has %(show_value)d)."),
        },
    )
    # Write-only: blank keeps the current password, and it is never rendered back into the page.
    password = forms.CharField(
        label=FIELD_LABELS["password"],
        max_length=NAME_MAX,
        required=False,
        strip=False,
        help_text=_("Leave blank to keep the current password."),
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        error_messages={
            "max_length": _("The SSH password must be at most %(limit_value)d characters (it has %(show_value)d)."),
        },
    )
    sshPort = forms.IntegerField(
        label=FIELD_LABELS["sshPort"],
        min_value=PORT_MIN,
        max_value=PORT_MAX,
        error_messages={
            "required": _("Enter the SSH port (usually 22)."),
            "invalid": PORT_RULE,
            "min_value": PORT_RULE,
            "max_value": PORT_RULE,
        },
    )
    systemTags = TagsField(label=FIELD_LABELS["systemTags"], required=False, help_text=TAGS_HELP)
    userTags = TagsField(label=FIELD_LABELS["userTags"], required=False, help_text=TAGS_HELP)
    loaded = forms.CharField(
        widget=forms.HiddenInput,
        error_messages={
            "required": _("This form could not be verified. Reload the page and enter your changes again."),
        },
    )
    # The one-time submission token (submissions.py): a second POST of this form writes nothing again.
    submission = forms.CharField(
        widget=forms.HiddenInput,
        error_messages={
            "required": _("This form could not be verified. Reload the page and enter your changes again."),
        },
    )

    UPDATE_FIELDS = ("name", "description", "hostname", "username", "password", "sshPort", "systemTags", "userTags")

    def clean_name(self):
        name = self.cleaned_data["name"]
        if not name.strip():
            raise ValidationError(_("The name must not be blank."), code="blank")
        return name

    def clean_loaded(self) -> dict:
        try:
            snapshot = signing.loads(self.cleaned_data["loaded"], salt=_SNAPSHOT_SALT)
        except signing.BadSignature:
            snapshot = None
        if (
            not isinstance(snapshot, dict)
            or snapshot.get("uuid") != self.uuid
            or not isinstance(snapshot.get("values"), dict)
            or set(snapshot["values"]) != set(EDITABLE_FIELDS)
        ):
            raise ValidationError(
                _("This form could not be verified. Reload the page and enter your changes again."), code="bad_snapshot"
            )
        return snapshot["values"]

    def clean_submission(self) -> str:
        nonce = read_token(self.cleaned_data["submission"], uuid=self.uuid, action=Action.UPDATE)
        if nonce is None:
            raise ValidationError(
                _("This form is too old to be sent. Your input is kept: save again."), code="expired_submission"
            )
        return nonce

    @property
    def nonce(self) -> str:
        """The verified submission token's nonce: the write's reservation key."""
        return self.cleaned_data["submission"]

    @property
    def values(self) -> dict:
        """The submitted update fields (cleaned), for the service to compare with ``loaded_values``."""
        return {name: self.cleaned_data.get(name) for name in self.UPDATE_FIELDS}

    @property
    def loaded_values(self) -> dict:
        """The editable values when the form was loaded (from the verified snapshot)."""
        return self.cleaned_data["loaded"]


class StorageFilterForm(forms.Form):
    """The list's GET filters; any invalid value falls back to its default instead of failing the page."""

    q = forms.CharField(
        label=_("Search by name or UUID"),
        max_length=NAME_MAX,
        required=False,
        # ZStack matches names with SQL LIKE and offers no escape (docs/zstack-protocol.md §6.2).
        # A UUID's first 8 or more characters (as the list shows it) search UUIDs: selectors.UUID_PREFIX_MIN.
        help_text=_(
            "Part of a name, a full UUID or its first 8 or more characters. In a name, “%” matches any characters "
            "and “_” any one character."
        ),
    )
    state = forms.ChoiceField(label=FIELD_LABELS["state"], required=False, choices=[("", _("Any state")), *STATES])
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("Any status")), *STATUSES])
    zone = forms.RegexField(label=_("Zone"), regex=rf"^{RESOURCE_UUID}$", required=False)
    # Each storage against its own thresholds, by our latest capacity snapshot (docs/capacity.md).
    capacity = forms.ChoiceField(
        label=_("Capacity"), required=False, choices=[("", _("Any capacity")), *CAPACITY_LEVELS]
    )
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=())
    page = forms.IntegerField(label=_("Page"), min_value=1, required=False)
    page_size = forms.TypedChoiceField(
        # The stubs want a str empty_value; Django returns it as given, and filters() wants the int.
        label=_("Per page"),
        required=False,
        coerce=int,
        empty_value=DEFAULT_PAGE_SIZE,  # type: ignore[arg-type]
        choices=[(str(n), str(n)) for n in PAGE_SIZES],
    )

    def __init__(self, data=None, *args, **kwargs):
        if data is not None:  # show the defaults in use, not the first option, when a value is missing
            data = data.copy()
            for key, default in (("sort", DEFAULT_SORT), ("page_size", str(DEFAULT_PAGE_SIZE))):
                if not data.get(key):
                    data[key] = default
        kwargs.setdefault("label_suffix", "")
        super().__init__(data, *args, **kwargs)
        choices = []
        for field, label in SORT_FIELDS.items():
            choices.append((field, _("%(field)s, ascending") % {"field": label}))
            choices.append((f"-{field}", _("%(field)s, descending") % {"field": label}))
        self.fields["sort"].choices = choices

    def clean_q(self):
        q = self.cleaned_data["q"].strip()
        if any(breaker in q for breaker in QUERY_BREAKERS):
            raise ValidationError(_("The search cannot contain “!=”, “>=”, “<=”, “!?=” or “!~=”."), code="operator")
        return q

    def filters(self) -> dict:
        """Valid values, with defaults for anything missing or invalid."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "q": data.get("q") or "",
            "state": data.get("state") or "",
            "status": data.get("status") or "",
            "zone": data.get("zone") or "",
            "capacity": data.get("capacity") or "",
            "sort": data.get("sort") or DEFAULT_SORT,
            "page": data.get("page") or 1,
            "page_size": data.get("page_size") or DEFAULT_PAGE_SIZE,
        }


# The images section of the detail page (issue 12): which sizes it sorts by, largest stored first by default.
IMAGE_SORTS = ("-actualSize", "actualSize", "-size", "size")
DEFAULT_IMAGE_SORT = "-actualSize"


class StorageImagesForm(forms.Form):
    """The images section's GET parameters; anything invalid falls back to its default."""

    page = forms.IntegerField(min_value=1, max_value=100_000, required=False)
    sort = forms.ChoiceField(required=False, choices=[(s, s) for s in IMAGE_SORTS])

    def params(self) -> dict:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {"page": data.get("page") or 1, "sort": data.get("sort") or DEFAULT_IMAGE_SORT}
