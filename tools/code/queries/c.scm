; Definitions in C; C++ uses this file too (its grammar extends C's), then cpp.scm.
; Captures: @definition.KIND on the whole definition, and its name as @name, or as
; @declarator when the name sits inside a C declarator (pointers, arrays, function
; declarators), which the code unwraps: a declarator that turns out to declare a
; function is a prototype and is left out unless it is a function_definition.
; When several patterns capture the same name, the earliest pattern wins.

(function_definition
  declarator: (_) @declarator
  body: (compound_statement)) @definition.function

(struct_specifier name: (type_identifier) @name body: (field_declaration_list)) @definition.struct
(union_specifier name: (type_identifier) @name body: (field_declaration_list)) @definition.union
(enum_specifier name: (type_identifier) @name body: (enumerator_list)) @definition.enum
(enumerator name: (identifier) @name) @definition.enum_member
(field_declaration declarator: (_) @declarator) @definition.field

; Only the declarator, so that `typedef enum e {...} e;` does not enclose the enum.
(type_definition declarator: (_) @declarator @definition.type)

(preproc_def name: (identifier) @name) @definition.macro
(preproc_function_def name: (identifier) @name) @definition.macro

; Variables; those inside functions are locals and dropped by the code.
(declaration declarator: (_) @declarator) @definition.variable
