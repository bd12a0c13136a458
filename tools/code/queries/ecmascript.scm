; Definitions shared by JavaScript and TypeScript (TypeScript's grammar extends
; JavaScript's); javascript.scm and typescript.scm add what only one of them has.
; When several patterns capture the same name, the earliest pattern wins: functions
; bound to names come before plain constants and variables.

(function_declaration name: (identifier) @name) @definition.function
(generator_function_declaration name: (identifier) @name) @definition.function
(variable_declarator
  name: (identifier) @name
  value: [(arrow_function) (function_expression) (generator_function)]) @definition.function

(class_declaration name: (_) @name) @definition.class
(variable_declarator name: (identifier) @name value: (class)) @definition.class
(method_definition name: [(property_identifier) (private_property_identifier)] @name) @definition.method

; Properties of object literals bound to a name (`const config = {port: 1}`).
(variable_declarator
  value: (object (pair key: (property_identifier) @name) @definition.field))

; Variables; those inside functions are locals and dropped by the code.
(lexical_declaration kind: "const" (variable_declarator name: (identifier) @name)) @definition.constant
(lexical_declaration (variable_declarator name: (identifier) @name)) @definition.variable
(variable_declaration (variable_declarator name: (identifier) @name)) @definition.variable
