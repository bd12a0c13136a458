; JavaScript-only additions to ecmascript.scm.

(field_definition property: [(property_identifier) (private_property_identifier)] @name) @definition.field
