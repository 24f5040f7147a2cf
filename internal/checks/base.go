package checks

// check is the usual way to write a check: its metadata and a function.
type check struct {
	meta Meta
	run  func(s *Subject) ([]Finding, error)
}

func (c check) Meta() Meta                        { return c.meta }
func (c check) Run(s *Subject) ([]Finding, error) { return c.run(s) }

// define makes a check of meta and run.
func define(meta Meta, run func(s *Subject) ([]Finding, error)) Check {
	return check{meta: meta, run: run}
}

func field(name, value string) Evidence { return Evidence{Field: name, Value: value} }
