package checks

// check is the usual way to write a check: its metadata and a function.
type check struct {
	meta Meta
	run  func(s *Subject) ([]Finding, error)
}

func (c check) Meta() Meta                        { return c.meta }
func (c check) Run(s *Subject) ([]Finding, error) { return c.run(s) }

// register adds a check made of meta and run.
func register(meta Meta, run func(s *Subject) ([]Finding, error)) {
	Register(check{meta: meta, run: run})
}

func field(name, value string) Evidence { return Evidence{Field: name, Value: value} }
