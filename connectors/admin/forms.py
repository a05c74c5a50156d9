"""The provider change forms: what is about the form only. Derived URLs follow the values as they
are typed, a name is checked against the others, stored secrets are write-only (a blank secret
keeps the stored one; a checkbox clears it) and are not sent to a host the form just changed.

The rules of the values themselves (control characters, each provider's field rules, the outbound
URL policy) live on the models (connectors/store/rules.py): the ModelForm's model validation puts their
messages on the fields, and full_clean() outside the admin refuses the same input."""

from django import forms
from django.utils import timezone, translation
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from connectors.models import Connection, secret_fields
from connectors.store import policy


class DatalistInput(forms.TextInput):
    """A text input offering the documented values in a drop-down, still accepting a sandbox URL
    that the settings allow."""

    template_name = "connectors/widgets/datalist.html"

    def __init__(self, options, attrs=None):
        super().__init__(attrs)
        self.options = options

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["options"] = self.options
        context["widget"]["attrs"]["list"] = f"{context['widget']['attrs']['id']}_options"
        return context


# Words an English title keeps in lower case ("Clear the stored client secret" is no title: only
# the labels of the model's own fields are titles).
SMALL_WORDS = {"a", "an", "and", "at", "by", "for", "in", "of", "on", "or", "the", "to"}


def english_title(label):
    """A field label in the casing of the partners' documentation, which most labels already
    follow ("Client Secret", "Access Token URL"): "Grant type" becomes "Grant Type". Other
    languages keep their own rules (German capitalises nouns, not every word)."""
    if not translation.get_language() or not translation.get_language().startswith("en"):
        return label
    words = str(label).split(" ")
    return " ".join(
        word if position and word in SMALL_WORDS else word[:1].upper() + word[1:] for position, word in enumerate(words)
    )


class ConnectionForm(forms.ModelForm):
    """Base of the per-provider forms; `provider` is set by connection_form_class()."""

    provider = None
    secret_fields = ()  # the model's editable encrypted fields, set by connection_form_class()
    prefill_errors: dict = {}  # {field: sentence} of a failed prefill (connectors/admin/prefill.py)
    hosts_changed = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stored = self.instance
        model_fields = {model_field.name for model_field in self._meta.model._meta.get_fields()}
        for name, field in self.fields.items():
            if name in model_fields and field.label:
                field.label = english_title(field.label)
            if name in self.provider.help_texts:
                field.help_text = self.provider.help_texts[name]
            if isinstance(field, forms.CharField):
                # Keep line breaks so that the model's rules refuse them instead of the form
                # silently trimming them away.
                field.strip = False
        for name in self.provider.url_fields:
            if name not in self.fields:
                continue  # a read-only view of the form
            if name in self.provider.url_suggestions:
                self.fields[name].widget = DatalistInput(self.provider.url_suggestions[name])
            # One width for every URL input (static/connectors/connections.css), added to the
            # class the admin gives a text input.
            attrs = self.fields[name].widget.attrs
            attrs["class"] = " ".join(dict.fromkeys([*attrs.get("class", "").split(), "vURLField", "pc-url-input"]))
            if name in self.provider.derived_url_fields:
                self.fields[name].required = False
        for name, choices in self.provider.field_choices.items():
            if name in self.fields:
                self.fields[name].widget = forms.Select(choices=choices())
        for name, note in self.provider.field_notes(stored).items():
            if name in self.fields:
                self.fields[name].help_text = format_lazy("{} {}", self.fields[name].help_text, note)
        for name, attributes in self.provider.widget_attributes().items():
            if name in self.fields:
                self.fields[name].widget.attrs.update(attributes)
        if "scope" in self.fields and not stored.pk:
            self.initial.setdefault("scope", self.provider.default_scope)
        for name, value in self.provider.form_only_initial(stored).items():
            self.initial.setdefault(name, value)
        for name in self.secret_fields:
            if name in self.fields:
                is_set = bool(stored.pk and getattr(stored, name))
                state = _("Set. Leave blank to keep the stored value.") if is_set else _("Not set.")
                self.fields[name].help_text = f"{state} {self.provider.help_texts.get(name, '')}"
                if not is_set:
                    # Nothing stored, nothing to clear: keep the field but do not offer it.
                    self.fields[f"clear_{name}"].widget = forms.HiddenInput()

    # -- validation -----------------------------------------------------------------------

    def clean(self):
        cleaned = super().clean()
        for name, value in list(cleaned.items()):
            if isinstance(value, str) and name not in self.secret_fields:
                cleaned[name] = value.strip(" ")
        for name, sentence in self.prefill_errors.items():
            self.add_error(name if name in self.fields else None, sentence)
        self._check_clear_or_new_secret(cleaned)
        # Before the model's rules run on the instance (ModelForm._post_clean).
        self.provider.store_form_only_values(self.instance, cleaned)
        if self.errors:
            return cleaned
        self._fill_derived_urls(cleaned)
        self._check_unique_name(cleaned)
        # Compared now: after clean() the form copies its values onto self.instance.
        self.hosts_changed = self.changed_hosts(cleaned)
        self._check_secrets_against_new_host(cleaned)
        return cleaned

    def _check_clear_or_new_secret(self, cleaned):
        # Clearing and typing a new value at once is ambiguous: refuse it rather than guess.
        for name in self.secret_fields:
            if cleaned.get(f"clear_{name}") and cleaned.get(name):
                self.add_error(
                    name,
                    _("Either type a new %(field)s or tick “Clear”, not both.")
                    % {"field": str(self.fields[name].label).lower()},
                )

    def _fill_derived_urls(self, cleaned):
        derived_now = self.provider.derive_urls(cleaned)
        derived_before = self.provider.derive_urls(self._stored_values()) if self.instance.pk else {}
        for name in self.provider.derived_url_fields:
            value = cleaned.get(name, "")
            # Blank, or still the default of the old values: follow the new values.
            if not value or (derived_before and value == derived_before.get(name)):
                cleaned[name] = derived_now.get(name, value)

    def _stored_values(self):
        return {name: getattr(self.instance, name, "") for name in self.fields if hasattr(self.instance, name)}

    def _check_unique_name(self, cleaned):
        name = cleaned.get("name")
        if not name:
            return
        taken = Connection.objects.filter(provider=self.provider.key, name__iexact=name)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            # The database refuses it too (a case-insensitive constraint); this says it first.
            self.instance.name = name
            self.add_error("name", self.instance.duplicate_name_message())

    def changed_hosts(self, cleaned):
        """Whether the form moves credentials to another place than what is stored: another
        scheme, host or effective port of any URL (the change policy's comparison)."""
        if not self.instance.pk:
            return False
        stored = {name: getattr(self.instance, name, "") for name in self.provider.url_fields}
        return bool(policy.moved_fields(self.provider, stored, cleaned))

    def _check_secrets_against_new_host(self, cleaned):
        # A stored secret is never sent to a place the operator just typed: ask for it again.
        if self.errors or not self.hosts_changed:
            return
        for name in self.secret_fields:
            if (
                name in self.fields
                and getattr(self.instance, name)
                and not cleaned.get(name)
                and not cleaned.get(f"clear_{name}")
            ):
                self.add_error(name, policy.enter_again_message(self.fields[name].label))

    # -- saving ---------------------------------------------------------------------------

    def save(self, commit=True):
        instance = super().save(commit=False)
        stored = type(instance).objects.filter(pk=instance.pk).first() if instance.pk else None
        for name in self.secret_fields:
            if name not in self.fields:
                continue
            entered = self.cleaned_data.get(name)
            if self.cleaned_data.get(f"clear_{name}"):
                setattr(instance, name, "")
            elif entered:
                setattr(instance, name, entered)
            else:
                setattr(instance, name, getattr(stored, name) if stored else "")
        # Typed on this form: a secret entered again for a moved URL, even if it equals the stored
        # one (the model's save keeps only those, connectors/store/policy.py).
        instance.secrets_entered = {name for name in self.secret_fields if self.cleaned_data.get(name)}
        if stored and self.hosts_changed:
            # Tokens belong to the server that issued them (the model's save drops them too; an
            # unsaved copy for Test Connection must not carry them either).
            instance.clear_tokens(reason=policy.MOVED_REASON)
        if stored and self.changed_field_labels:
            # An older failed test no longer speaks for these settings (connectors/store/health.py).
            instance.settings_changed_at = timezone.now()
        if commit:
            instance.save()
        return instance

    @property
    def changed_field_labels(self):
        """Labels of changed fields for the event log; secrets named, never their values."""
        labels = []
        for name in self.changed_data:
            if name.startswith("clear_"):
                if self.cleaned_data.get(name):
                    labels.append(self.fields[name].label)
                continue
            if name in self.secret_fields and not self.cleaned_data.get(name):
                continue
            label = self.fields[name].label
            # A template parameter's label is data in each language: the event keeps its English.
            labels.append(getattr(label, "en", label))  # lazy: the event shows it in the reader's language
        return labels


# The clear checkbox of each secret, as a sentence of its own (a label cannot be lower-cased into
# another sentence in every language).
CLEAR_LABELS = {
    "client_secret": gettext_lazy("Clear the stored client secret"),
    "password": gettext_lazy("Clear the stored password"),
}


def secret_form_fields(model):
    """Write-only inputs for the model's secrets, each with a checkbox that clears it."""
    fields = {}
    for name in secret_fields(model):
        label = model._meta.get_field(name).verbose_name
        fields[name] = forms.CharField(
            label=label,
            required=False,
            strip=False,
            max_length=500,
            widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        )
        clear_label = CLEAR_LABELS.get(name) or format_lazy(gettext_lazy("Clear the stored {field}"), field=label)
        fields[f"clear_{name}"] = forms.BooleanField(label=clear_label, required=False)
    return fields


def form_only_fields(provider):
    """Text inputs for the provider's values that are no model field (template parameters)."""
    return {
        name: forms.CharField(label=label, help_text=help_text, required=False, max_length=200)
        for name, (label, help_text) in provider.form_only_fields().items()
    }


def connection_form_class(provider, model):
    return type(
        f"{model.__name__}Form",
        (ConnectionForm,),
        {
            "provider": provider,
            "secret_fields": secret_fields(model),
            **secret_form_fields(model),
            **form_only_fields(provider),
            "Meta": type("Meta", (), {"model": model, "exclude": ()}),
        },
    )
