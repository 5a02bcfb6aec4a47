"""The answer checker: the policy's rules (``policy``), applied node by node to one answer cell.

Each group of rules is a class of its own, all walking the same ``CheckedCell``: imports, names and
attributes, calls (magics included), and definitions (functions, classes, lambdas, annotations), which also keep
track of the scopes the other rules read.
"""

import ast

from .answer_code import bound_names, defined_names, is_address, magic_call, parse, timed_code
from .answer_names import CheckedCell
from .findings import Finding
from .policy import (ALLOWED_PRIVATE_ATTRIBUTES, BUILTIN_ADVICE, CLASS_BUILDING_KEYWORDS, CODE_FROM_DATA,
                     CONTAINER_METHODS, CONVENTIONAL_IMPORTS, DEFINABLE_METHODS, DUNDER, FORBIDDEN_BUILTINS,
                     FORMATTING_METHODS, FRAME_ATTRIBUTES, RAW_MEMORY_FUNCTIONS, module_allowed)


class ImportRules(CheckedCell):
    """Only the allowed modules, nothing from them that is a module or runs code, no rebinding by import."""

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if not module_allowed(alias.name):
                self.flag(node, f"imports {alias.name}", "import")
                continue
            bound = alias.asname or alias.name.split(".")[0]
            self.modules[bound] = alias.name if alias.asname else bound
            if not self.local_scopes and bound in self.protected and CONVENTIONAL_IMPORTS.get(bound) != alias.name:
                self.flag(node, f"rebinds {bound}", "rebinds")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level or not module_allowed(module):
            self.flag(node, f"imports from {module or '.'}", "import")
            return
        for alias in node.names:
            if alias.name == "*":
                self.flag(node, f"imports * from {module}", "star_import")
            elif alias.name.startswith("_") or not module_allowed(f"{module}.{alias.name}") \
                    or (alias.name in self.reachable["module_attributes"]
                        and f"{module}.{alias.name}" not in self.reachable["allowed_modules"]):
                self.flag(node, f"imports {alias.name} from {module}", "module_attribute")
            elif alias.name in FORBIDDEN_BUILTINS | CODE_FROM_DATA:
                self.flag(node, f"imports {alias.name} from {module}", "code_from_data")
            elif alias.name in RAW_MEMORY_FUNCTIONS:
                self.flag(node, f"imports {alias.name} from {module}", "raw_memory")
            elif alias.name in self.reachable["mode_classes"]:
                self.flag(node, f"imports {alias.name} from {module}", "mode")
            elif not self.local_scopes and (alias.asname or alias.name) in self.protected:
                self.flag(node, f"rebinds {alias.asname or alias.name}", "rebinds")
            else:
                self.modules[alias.asname or alias.name] = f"{module}.{alias.name}"



class NameRules(CheckedCell):
    """Names, attributes, items and constants: nothing private, dunder, raw or leading out of the allowed modules;
    no assigning what the answer did not create, no changing what the tests use."""

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in FORBIDDEN_BUILTINS:
            self.flag(node, f"uses {node.id}", BUILTIN_ADVICE[node.id])
        elif node.id in CODE_FROM_DATA:
            self.flag(node, f"uses {node.id}", "code_from_data")
        elif node.id == "type":
            self.flag(node, "uses type other than as type(value)", "builds_class")
        elif node.id in self.checks and isinstance(node.ctx, ast.Load) and not self.binds_in_a_function(node.id):
            self.flag(node, f"uses {node.id}, a check of the tests", "tests_check")
        elif node.id in self.reachable["mode_classes"] and node.id not in self.protected:
            self.flag(node, f"uses {node.id}", "mode")
        elif node.id.startswith("__") and not (self.in_class_body and node.id in DEFINABLE_METHODS):
            self.flag(node, f"uses {node.id}", "dunder")
        elif node.id.startswith("_") and node.id not in self.answer_names:
            self.flag(node, f"uses {node.id}, a private name no answer defines", "private_name")
        elif isinstance(node.ctx, (ast.Store, ast.Del)) and not self.local_scopes and node.id in self.protected:
            self.flag(node, f"rebinds {node.id}, which the tests use", "rebinds")
        if isinstance(node.ctx, (ast.Store, ast.Del)) and not self.local_scopes:
            self.modules.pop(node.id, None)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        attr = node.attr
        if attr in CONTAINER_METHODS and not self.reaches_protected(node.value):
            pass  # grads.__setitem__(i, g) does what grads[i] = g does
        elif DUNDER.fullmatch(attr):
            self.flag(node, f"uses the attribute {attr}", "dunder")
        elif attr.startswith("_") and attr not in ALLOWED_PRIVATE_ATTRIBUTES:
            self.flag(node, f"uses the attribute {attr}", "private")
        elif attr in FRAME_ATTRIBUTES:
            self.flag(node, f"uses the attribute {attr}", "frame")
        elif self.leads_out(node):
            self.flag(node, f"uses the attribute {attr}", "module_attribute")
        elif attr in CODE_FROM_DATA:
            self.flag(node, f"uses the attribute {attr}", "code_from_data")
        elif attr in RAW_MEMORY_FUNCTIONS:
            self.flag(node, f"uses the attribute {attr}", "raw_memory")
        elif attr in self.reachable["mode_classes"]:
            self.flag(node, f"uses the attribute {attr}", "mode")
        if isinstance(node.ctx, (ast.Store, ast.Del)) and not self.is_local(node) and not self.is_own(node):
            self.flag(node, f"assigns the attribute {attr} of an object it did not create", "assigns_attribute")
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        self.generic_visit(node)
        # m = torch.nn: attributes read from m are judged as read from torch.nn.
        path = self.module_path(node.value)
        for target in node.targets:
            if isinstance(target, ast.Name) and path and not self.local_scopes:
                self.modules[target.id] = path

    def visit_Subscript(self, node: ast.Subscript) -> None:
        protected = self.reaches_protected(node.value)
        if isinstance(node.ctx, (ast.Store, ast.Del)) and protected:
            self.flag(node, f"changes {protected}, which the tests use", "changes")
        self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        for side in (node.left, node.right):
            if is_address(side):
                self.flag(node, f"computes with a memory address ({ast.unparse(side)})", "raw_memory")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and DUNDER.search(node.value):
            self.flag(node, f"names {DUNDER.search(node.value).group()} in a string", "dunder_string")

    def visit_Global(self, node: ast.Global) -> None:
        for name in node.names:
            if name in self.protected:
                self.flag(node, f"declares global {name}, which the tests use", "global")



class CallRules(CheckedCell):
    """Calls: no classes built with ``type()`` or class-building keywords, ``.format`` only on literals, and the
    code of an allowed magic checked as the answer's own."""

    def visit_magic(self, node: ast.Call, name: str, line: str, cell: str | None) -> None:
        """An allowed magic's code is checked as the answer's own, at module level (where IPython runs it)."""
        code = timed_code(name, line)
        if code is None:
            self.flag(node, f"uses the magic %{name}", "magic")
            return
        # A cell magic's body starts on the line after it; a line magic's code is on its own line.
        for text, first_line in ((code, node.lineno), (cell, node.lineno + 1)):
            tree = parse(text) if text else None
            if tree is None:
                continue
            ast.increment_lineno(tree, first_line - 1)
            scopes = self.local_scopes, self.function_scopes, self.in_class_body
            self.local_scopes, self.function_scopes, self.in_class_body = [], [], False
            for statement in tree.body:
                self.visit(statement)
            self.local_scopes, self.function_scopes, self.in_class_body = scopes

    def visit_Call(self, node: ast.Call) -> None:
        magic = magic_call(node)
        if magic is not None:
            self.visit_magic(node, *magic)
            return
        if isinstance(node.func, ast.Name) and node.func.id == "type":
            if len(node.args) + len(node.keywords) != 1:
                self.flag(node, "builds a class with type()", "builds_class")
            elif node.args and (self.reaches_protected(node.args[0]) or self.module_path(node.args[0])):
                # the type of a class is its metaclass, which builds classes: the type of a value is all an answer
                # needs
                self.flag(node, f"takes the type of {ast.unparse(node.args[0])}", "builds_class")
        else:
            self.visit(node.func)
        if isinstance(node.func, ast.Call) and isinstance(node.func.func, ast.Name) and node.func.func.id == "type":
            self.flag(node, "calls what type() returned", "builds_class")
        if isinstance(node.func, ast.Attribute) and node.func.attr in FORMATTING_METHODS and not (
                isinstance(node.func.value, ast.Constant) and isinstance(node.func.value.value, str)):
            self.flag(node, f"calls {node.func.attr} on a string built at run time", "dunder_string")
        for keyword in node.keywords:
            if keyword.arg and DUNDER.fullmatch(keyword.arg):
                self.flag(node, f"passes the keyword {keyword.arg}", "dunder_string")
            elif keyword.arg and keyword.arg.startswith("_") and keyword.arg not in self.answer_names:
                self.flag(node, f"passes the private keyword {keyword.arg}", "private_name")
            elif keyword.arg in CLASS_BUILDING_KEYWORDS:
                self.flag(node, f"builds a class at run time ({keyword.arg}=)", "builds_class")
        for argument in [*node.args, *(keyword.value for keyword in node.keywords)]:
            self.visit(argument)



class DefinitionRules(CheckedCell):
    """Functions, classes, lambdas and annotations, and the scopes they open for the other rules."""

    def check_annotation(self, annotation: ast.AST | None) -> None:
        if annotation is None:
            return
        if any(isinstance(part, ast.Constant) and isinstance(part.value, str) for part in ast.walk(annotation)):
            self.flag(annotation, "writes an annotation as a string", "string_annotation")
        self.visit(annotation)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self.visit(node.target)
        self.check_annotation(node.annotation)
        if node.value is not None:
            self.visit(node.value)

    def _visit_scope(self, node, arguments: ast.arguments | None, in_class: bool = False) -> None:
        if node.name.startswith("__") and not (in_class and node.name in DEFINABLE_METHODS):
            self.flag(node, f"defines {node.name}", "defines_dunder")
        if not self.local_scopes and node.name in self.protected:
            self.flag(node, f"rebinds {node.name}, which the tests use", "rebinds")
        for decorator in node.decorator_list:
            self.visit(decorator)
        names = bound_names(ast.Module(body=node.body, type_ignores=[]))
        if arguments is not None:
            every_argument = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs,
                              *(arg for arg in (arguments.vararg, arguments.kwarg) if arg is not None)]
            names |= {arg.arg for arg in every_argument}
            for arg in every_argument:
                self.check_annotation(arg.annotation)
            self.check_annotation(node.returns)
            for default in [*arguments.defaults, *arguments.kw_defaults]:
                if default is not None:
                    self.visit(default)
        # A name declared global inside the function is not the function's own.
        names -= {name for statement in ast.walk(ast.Module(body=node.body, type_ignores=[]))
                  if isinstance(statement, ast.Global) for name in statement.names}
        is_function = arguments is not None
        if is_function and self.function_scopes:
            names |= self.function_scopes[-1]  # a closure's free names are its enclosing function's locals
        self.local_scopes.append(names)
        if is_function:
            self.function_scopes.append(names)
        enclosing_in_class_body, self.in_class_body = self.in_class_body, not is_function
        for statement in node.body:
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)) and not is_function:
                self._visit_scope(statement, statement.args, in_class=True)
            else:
                self.visit(statement)
        self.in_class_body = enclosing_in_class_body
        if is_function:
            self.function_scopes.pop()
        self.local_scopes.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._visit_scope(node, node.args)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for base in node.bases:
            text = ast.unparse(base)
            last = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", None)
            if last is None or last in self.reachable["tensor_classes"] or "Tensor" in text or "Parameter" in text:
                self.flag(node, f"subclasses {text}", "subclass")
            elif self.reaches_protected(base) and self.module_path(base) is None:
                self.flag(node, f"subclasses {text}, a helper of the notebook", "subclass_helper")
            self.visit(base)
        for keyword in node.keywords:
            self.flag(node, f"passes {keyword.arg} to a class statement", "builds_class")
        self._visit_scope(node, None)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        arguments = node.args
        for default in [*arguments.defaults, *arguments.kw_defaults]:
            if default is not None:
                self.visit(default)
        names = {arg.arg for arg in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs,
                                     *(a for a in (arguments.vararg, arguments.kwarg) if a)]}
        self.local_scopes.append(names | (self.function_scopes[-1] if self.function_scopes else set()))
        self.visit(node.body)
        self.local_scopes.pop()




class AnswerChecker(ImportRules, NameRules, CallRules, DefinitionRules):
    """Walks one answer cell with every rule and collects its findings."""


def check_answer(cell: str, source: str, protected: set[str], answer_names: set[str] = frozenset(),
                 checks: set[str] = frozenset()) -> list[Finding]:
    """Findings for one answer cell; a cell that does not parse has none (it simply fails its tests).

    ``answer_names``: the names the submission's other answer cells define, whose ``_private`` ones this cell may
    use too (a helper ``_lift`` of exercise 1, called in exercise 2). ``checks``: the tests' checks the notebook
    imports (``protected.check_names``), which no answer may use."""
    tree = parse(source)
    if tree is None:
        return []
    checker = AnswerChecker(cell, source, protected)
    checker.own = checker.own_names(tree)
    checker.answer_names = set(answer_names) | defined_names(tree)
    checker.checks = set(checks)
    checker.visit(tree)
    return checker.findings


def answer_findings(answers: dict[str, str], protected: set[str], checks: set[str] = frozenset()) -> list[Finding]:
    """Every finding of a submission's answers (source by grade id): what the grader and ``make validate`` report."""
    trees = [tree for tree in map(parse, answers.values()) if tree is not None]
    answer_names = set().union(*map(defined_names, trees))
    return [finding for cell, source in answers.items()
            for finding in check_answer(cell, source, protected, answer_names, checks)]
