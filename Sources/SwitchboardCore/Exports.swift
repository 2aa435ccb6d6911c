// Core's API is written in the JSON toolkit's types (`JSON`, `Schema`, `ValidationIssue`): whoever imports
// Core (plugins, dialects) gets them with it.
@_exported import SwitchboardJSON
