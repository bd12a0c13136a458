; Definitions in Go. A method's receiver type is captured as @scope, so that
; `func (b *Bucket) Allow()` is named Allow in scope Bucket.

(package_clause (package_identifier) @name) @definition.package
(function_declaration name: (identifier) @name) @definition.function
(method_declaration
  receiver: (parameter_list
    (parameter_declaration type: [(type_identifier) @scope
                                  (pointer_type (type_identifier) @scope)
                                  (generic_type type: (type_identifier) @scope)
                                  (pointer_type (generic_type type: (type_identifier) @scope))]))
  name: (field_identifier) @name) @definition.method

(type_spec name: (type_identifier) @name type: (struct_type)) @definition.struct
(type_spec name: (type_identifier) @name type: (interface_type)) @definition.interface
(type_spec name: (type_identifier) @name) @definition.type
(type_alias name: (type_identifier) @name) @definition.type
(field_declaration name: (field_identifier) @name) @definition.field
(method_elem name: (field_identifier) @name) @definition.method

; Constants and variables; those inside functions are locals and dropped by the code.
(const_spec name: (identifier) @name) @definition.constant
(var_spec name: (identifier) @name) @definition.variable
