; Definitions in Python. Decorated definitions are found through their inner
; function_definition or class_definition, so the line is the `def` or `class` line.

(function_definition name: (identifier) @name) @definition.function
(class_definition name: (identifier) @name) @definition.class
(assignment left: (identifier) @name right: (lambda)) @definition.function

; Assignments; those inside functions are locals and dropped by the code, those in a
; class body become fields.
(assignment left: (identifier) @name) @definition.variable
(assignment left: (pattern_list (identifier) @name)) @definition.variable
(assignment left: (tuple_pattern (identifier) @name)) @definition.variable
