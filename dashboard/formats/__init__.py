"""Local overrides of Django's per-language formats (settings.FORMAT_MODULE_PATH); a module here only
needs the names it changes, Django falls back to its own locale data for the rest."""
