package probe

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// StructureTests is a container-structure-test file (schemaVersion 2.0.0):
// the same format teams already have.
type StructureTests struct {
	SchemaVersion      string          `yaml:"schemaVersion"`
	CommandTests       []CommandTest   `yaml:"commandTests"`
	FileExistenceTests []FileExistence `yaml:"fileExistenceTests"`
	FileContentTests   []FileContent   `yaml:"fileContentTests"`
	MetadataTest       *MetadataTest   `yaml:"metadataTest"`
	GlobalEnvVars      []EnvVar        `yaml:"globalEnvVars"`
}

// EnvVar is a key/value pair (isRegex for metadata checks).
type EnvVar struct {
	Key     string `yaml:"key"`
	Value   string `yaml:"value"`
	IsRegex bool   `yaml:"isRegex"`
}

// CommandTest runs a command in a fresh container and checks its output and exit code.
type CommandTest struct {
	Name           string     `yaml:"name"`
	Command        string     `yaml:"command"`
	Args           []string   `yaml:"args"`
	EnvVars        []EnvVar   `yaml:"envVars"`
	ExpectedOutput []string   `yaml:"expectedOutput"`
	ExcludedOutput []string   `yaml:"excludedOutput"`
	ExpectedError  []string   `yaml:"expectedError"`
	ExcludedError  []string   `yaml:"excludedError"`
	ExitCode       int        `yaml:"exitCode"`
	Setup          [][]string `yaml:"setup"`
	Teardown       [][]string `yaml:"teardown"`
}

// FileExistence checks a path exists (or not), with permissions and owner.
type FileExistence struct {
	Name        string `yaml:"name"`
	Path        string `yaml:"path"`
	ShouldExist bool   `yaml:"shouldExist"`
	Permissions string `yaml:"permissions"`
	UID         *int   `yaml:"uid"`
	GID         *int   `yaml:"gid"`
}

// FileContent checks a file's content against regular expressions.
type FileContent struct {
	Name             string   `yaml:"name"`
	Path             string   `yaml:"path"`
	ExpectedContents []string `yaml:"expectedContents"`
	ExcludedContents []string `yaml:"excludedContents"`
}

// MetadataTest checks the image config.
type MetadataTest struct {
	EnvVars        []EnvVar  `yaml:"envVars"`
	Labels         []EnvVar  `yaml:"labels"`
	ExposedPorts   []string  `yaml:"exposedPorts"`
	UnexposedPorts []string  `yaml:"unexposedPorts"`
	Volumes        []string  `yaml:"volumes"`
	Entrypoint     *[]string `yaml:"entrypoint"`
	Cmd            *[]string `yaml:"cmd"`
	Workdir        *string   `yaml:"workdir"`
	User           *string   `yaml:"user"`
}

// LoadStructureTests reads and checks a container-structure-test file.
func LoadStructureTests(name string) (*StructureTests, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var t StructureTests
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if t.SchemaVersion != "" && !strings.HasPrefix(t.SchemaVersion, "2.") {
		return nil, fmt.Errorf("%s: schemaVersion %q: only 2.x is supported", name, t.SchemaVersion)
	}
	for i, c := range t.CommandTests {
		if c.Name == "" || c.Command == "" {
			return nil, fmt.Errorf("%s: commandTests[%d] needs a name and a command", name, i)
		}
		if len(c.Setup) > 0 || len(c.Teardown) > 0 {
			return nil, fmt.Errorf("%s: commandTests[%d] (%s): setup and teardown are not supported", name, i, c.Name)
		}
		for _, re := range append(append(append(c.ExpectedOutput, c.ExcludedOutput...), c.ExpectedError...), c.ExcludedError...) {
			if _, err := regexp.Compile(re); err != nil {
				return nil, fmt.Errorf("%s: commandTests[%d] (%s): %w", name, i, c.Name, err)
			}
		}
	}
	for i, f := range t.FileContentTests {
		for _, re := range append(f.ExpectedContents, f.ExcludedContents...) {
			if _, err := regexp.Compile(re); err != nil {
				return nil, fmt.Errorf("%s: fileContentTests[%d] (%s): %w", name, i, f.Name, err)
			}
		}
	}
	return &t, nil
}

func (p *prober) structureTests(ctx context.Context, file string) ([]TestResult, error) {
	t, err := LoadStructureTests(file)
	if err != nil {
		return nil, err
	}
	var out []TestResult
	for _, c := range t.CommandTests {
		out = append(out, p.commandTest(ctx, c, t.GlobalEnvVars))
	}
	if len(t.FileExistenceTests)+len(t.FileContentTests) > 0 {
		id, err := p.e.create(ctx, spec{Image: p.o.Image})
		if err != nil {
			return nil, err
		}
		for _, f := range t.FileExistenceTests {
			out = append(out, p.fileExistence(ctx, id, f))
		}
		for _, f := range t.FileContentTests {
			out = append(out, p.fileContent(ctx, id, f))
		}
		p.e.remove(ctx, id)
	}
	if t.MetadataTest != nil {
		out = append(out, p.metadataTest(*t.MetadataTest))
	}
	return out, nil
}

func envList(vars ...[]EnvVar) []string {
	var out []string
	for _, vs := range vars {
		for _, v := range vs {
			out = append(out, v.Key+"="+v.Value)
		}
	}
	return out
}

func (p *prober) commandTest(ctx context.Context, c CommandTest, global []EnvVar) TestResult {
	r := TestResult{Kind: "command", Name: c.Name}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	id, err := p.e.start(cctx, spec{Image: p.o.Image, Entrypoint: []string{c.Command}, Cmd: c.Args, Env: envList(global, c.EnvVars)})
	if err != nil {
		r.Detail = err.Error()
		return r
	}
	defer p.e.remove(ctx, id)
	wait := p.e.cli.ContainerWait(cctx, id, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	code := -1
	select {
	case w := <-wait.Result:
		code = int(w.StatusCode)
	case err := <-wait.Error:
		r.Detail = "waiting for the command: " + err.Error()
		return r
	}
	stdout, stderr, err := p.e.logs(ctx, id, "all")
	if err != nil {
		r.Detail = err.Error()
		return r
	}
	o, e := strings.Join(stdout, "\n"), strings.Join(stderr, "\n")
	var fails []string
	if code != c.ExitCode {
		fails = append(fails, fmt.Sprintf("exit code %d, want %d", code, c.ExitCode))
	}
	match := func(what, text string, res []string, want bool) {
		for _, re := range res {
			if regexp.MustCompile(re).MatchString(text) != want {
				verb := "lacks"
				if !want {
					verb = "contains"
				}
				fails = append(fails, fmt.Sprintf("%s %s %q", what, verb, re))
			}
		}
	}
	match("stdout", o, c.ExpectedOutput, true)
	match("stdout", o, c.ExcludedOutput, false)
	match("stderr", e, c.ExpectedError, true)
	match("stderr", e, c.ExcludedError, false)
	r.Passed = len(fails) == 0
	r.Detail = strings.Join(fails, "; ")
	return r
}

// readPath copies path out of the (created, not started) container and
// returns its tar header and up to 1 MiB of content.
func (p *prober) readPath(ctx context.Context, id, path string) (*tar.Header, []byte, error) {
	res, err := p.e.cli.CopyFromContainer(ctx, id, client.CopyFromContainerOptions{SourcePath: path})
	if err != nil {
		return nil, nil, err
	}
	defer res.Content.Close()
	tr := tar.NewReader(res.Content)
	h, err := tr.Next()
	if err != nil {
		return nil, nil, err
	}
	data, err := io.ReadAll(io.LimitReader(tr, 1<<20))
	return h, data, err
}

func (p *prober) fileExistence(ctx context.Context, id string, f FileExistence) TestResult {
	r := TestResult{Kind: "fileExistence", Name: f.Name}
	h, _, err := p.readPath(ctx, id, f.Path)
	exists := err == nil
	var fails []string
	if exists != f.ShouldExist {
		fails = append(fails, fmt.Sprintf("%s exists: %v, want %v", f.Path, exists, f.ShouldExist))
	}
	if exists && h != nil {
		mode := fs.FileMode(h.Mode).Perm()
		if h.Typeflag == tar.TypeDir {
			mode |= fs.ModeDir
		}
		if h.Mode&04000 != 0 {
			mode |= fs.ModeSetuid
		}
		if h.Mode&02000 != 0 {
			mode |= fs.ModeSetgid
		}
		if f.Permissions != "" && mode.String() != f.Permissions {
			fails = append(fails, fmt.Sprintf("permissions %s, want %s", mode, f.Permissions))
		}
		if f.UID != nil && h.Uid != *f.UID {
			fails = append(fails, fmt.Sprintf("uid %d, want %d", h.Uid, *f.UID))
		}
		if f.GID != nil && h.Gid != *f.GID {
			fails = append(fails, fmt.Sprintf("gid %d, want %d", h.Gid, *f.GID))
		}
	}
	r.Passed = len(fails) == 0
	r.Detail = strings.Join(fails, "; ")
	return r
}

func (p *prober) fileContent(ctx context.Context, id string, f FileContent) TestResult {
	r := TestResult{Kind: "fileContent", Name: f.Name}
	_, data, err := p.readPath(ctx, id, f.Path)
	if err != nil {
		r.Detail = fmt.Sprintf("%s: %v", f.Path, err)
		return r
	}
	var fails []string
	for _, re := range f.ExpectedContents {
		if !regexp.MustCompile(re).Match(data) {
			fails = append(fails, fmt.Sprintf("lacks %q", re))
		}
	}
	for _, re := range f.ExcludedContents {
		if regexp.MustCompile(re).Match(data) {
			fails = append(fails, fmt.Sprintf("contains %q", re))
		}
	}
	r.Passed = len(fails) == 0
	r.Detail = strings.Join(fails, "; ")
	return r
}

func (p *prober) metadataTest(m MetadataTest) TestResult {
	r := TestResult{Kind: "metadata", Name: "metadata"}
	if p.o.Config == nil {
		r.Detail = "no image config"
		return r
	}
	c := p.o.Config.Config
	var fails []string
	env := map[string]string{}
	for _, e := range c.Env {
		k, v, _ := strings.Cut(e, "=")
		env[k] = v
	}
	check := func(what string, vars []EnvVar, have map[string]string) {
		for _, v := range vars {
			got, ok := have[v.Key]
			switch {
			case !ok:
				fails = append(fails, fmt.Sprintf("%s %s missing", what, v.Key))
			case v.IsRegex && !regexp.MustCompile(v.Value).MatchString(got), !v.IsRegex && got != v.Value:
				fails = append(fails, fmt.Sprintf("%s %s=%q, want %q", what, v.Key, got, v.Value))
			}
		}
	}
	check("env", m.EnvVars, env)
	check("label", m.Labels, c.Labels)
	hasPort := func(p string) bool {
		_, a := c.ExposedPorts[p]
		_, b := c.ExposedPorts[p+"/tcp"]
		return a || b
	}
	for _, port := range m.ExposedPorts {
		if !hasPort(port) {
			fails = append(fails, "port "+port+" not exposed")
		}
	}
	for _, port := range m.UnexposedPorts {
		if hasPort(port) {
			fails = append(fails, "port "+port+" exposed")
		}
	}
	for _, v := range m.Volumes {
		if _, ok := c.Volumes[v]; !ok {
			fails = append(fails, "volume "+v+" missing")
		}
	}
	eq := func(a, b []string) bool { return strings.Join(a, "\x00") == strings.Join(b, "\x00") }
	if m.Entrypoint != nil && !eq(*m.Entrypoint, c.Entrypoint) {
		fails = append(fails, fmt.Sprintf("entrypoint %q, want %q", c.Entrypoint, *m.Entrypoint))
	}
	if m.Cmd != nil && !eq(*m.Cmd, c.Cmd) {
		fails = append(fails, fmt.Sprintf("cmd %q, want %q", c.Cmd, *m.Cmd))
	}
	if m.Workdir != nil && *m.Workdir != c.WorkingDir {
		fails = append(fails, fmt.Sprintf("workdir %q, want %q", c.WorkingDir, *m.Workdir))
	}
	if m.User != nil && *m.User != c.User {
		fails = append(fails, fmt.Sprintf("user %q, want %q", c.User, *m.User))
	}
	r.Passed = len(fails) == 0
	r.Detail = strings.Join(fails, "; ")
	return r
}
