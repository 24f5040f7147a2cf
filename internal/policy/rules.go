package policy

import (
	"fmt"
	"strings"
	"sync"

	"cel.dev/cel-go/cel"

	"github.com/shipshape-dev/shipshape/internal/checks"
)

// ruleCostLimit bounds the work one custom rule may do on one report.
const ruleCostLimit = 1_000_000

// CompiledRule is a custom rule ready to run.
type CompiledRule struct {
	Rule
	severity  checks.Severity
	dimension checks.Dimension
	prg       cel.Program
}

// env is the CEL environment of every rule, built once; a cel.Env and the
// programs built from it are safe for concurrent use.
var env = sync.OnceValues(func() (*cel.Env, error) {
	return cel.NewEnv(cel.Variable("report", cel.MapType(cel.StringType, cel.DynType)))
})

func compileRule(r Rule) (*CompiledRule, error) {
	if !idPattern.MatchString(r.ID) {
		return nil, fmt.Errorf("id %q: want an ID like CUSTOM-001", r.ID)
	}
	if _, ok := checks.Lookup(r.ID); ok {
		return nil, fmt.Errorf("id %q is a built-in check; choose another", r.ID)
	}
	if strings.TrimSpace(r.Message) == "" {
		return nil, fmt.Errorf("rule %s needs a message", r.ID)
	}
	sev, err := checks.ParseSeverity(r.Severity)
	if err != nil {
		return nil, fmt.Errorf("rule %s: %v", r.ID, err)
	}
	dim := checks.Dimension(strings.ToLower(r.Dimension))
	if r.Dimension == "" {
		dim = checks.Compliance
	}
	ok := false
	for _, d := range checks.Dimensions {
		ok = ok || d == dim
	}
	if !ok {
		return nil, fmt.Errorf("rule %s: unknown dimension %q", r.ID, r.Dimension)
	}
	e, err := env()
	if err != nil {
		return nil, err
	}
	ast, iss := e.Compile(r.Expr)
	if iss != nil && iss.Err() != nil {
		return nil, fmt.Errorf("rule %s: invalid CEL expression: %v", r.ID, iss.Err())
	}
	if ast.OutputType() != cel.BoolType && ast.OutputType() != cel.DynType {
		return nil, fmt.Errorf("rule %s: the expression must be a bool, it is %s", r.ID, ast.OutputType())
	}
	prg, err := e.Program(ast, cel.CostLimit(ruleCostLimit))
	if err != nil {
		return nil, fmt.Errorf("rule %s: %v", r.ID, err)
	}
	return &CompiledRule{Rule: r, severity: sev, dimension: dim, prg: prg}, nil
}

// Meta describes the rule as a check.
func (r *CompiledRule) Meta() checks.Meta {
	return checks.Meta{ID: r.ID, Dimension: r.dimension, Title: r.Message, Severity: r.severity, Veto: r.Veto,
		Description: "Custom policy rule: " + r.Expr, Remediation: r.Message}
}

// Run evaluates the rule on the report model (the JSON report as a map).
func (r *CompiledRule) Run(model map[string]any) checks.Result {
	res := checks.Result{Check: r.Meta(), Status: checks.Pass}
	out, _, err := r.prg.Eval(map[string]any{"report": model})
	if err != nil {
		res.Status = checks.Errored
		res.Note = fmt.Sprintf("evaluating %s: %v", r.ID, err)
		return res
	}
	fired, ok := out.Value().(bool)
	if !ok {
		res.Status = checks.Errored
		res.Note = fmt.Sprintf("rule %s returned %v, not a bool", r.ID, out.Value())
		return res
	}
	if fired {
		res.Status = checks.Fail
		res.Findings = []checks.Finding{{CheckID: r.ID, Dimension: r.dimension, Severity: r.severity, Veto: r.Veto, Title: r.Message,
			Evidence: []checks.Evidence{{Field: "policy rule", Value: r.Expr}}}}
	}
	return res
}
