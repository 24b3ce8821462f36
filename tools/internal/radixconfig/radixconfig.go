// Package radixconfig checks radixconfig.yaml files: against Radix's
// official JSON schema, and for the mistakes the schema lets through.
package radixconfig

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"sigs.k8s.io/yaml"
)

// SchemaEnv names the environment variable that holds the path of Radix's
// RadixApplication JSON schema (radixapplication.json in equinor/radix-operator).
const SchemaEnv = "RADIXCONFIG_SCHEMA"

// SchemaHelp says where to get the schema that SchemaEnv points at.
const SchemaHelp = "Schema validation of the radixconfig files was skipped: set it to the path of Radix's " +
	"RadixApplication schema, json-schema/radixapplication.json in github.com/equinor/radix-operator."

// App is the part of a RadixApplication that the rules below read.
type App struct {
	Metadata struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Environments []struct {
			Name  string `json:"name"`
			Build struct {
				From string `json:"from"`
			} `json:"build"`
		} `json:"environments"`
		Components []Component `json:"components"`
	} `json:"spec"`
}

// Component is one component of an App.
type Component struct {
	Name           string         `json:"name"`
	Src            string         `json:"src"`
	DockerfileName string         `json:"dockerfileName"`
	Image          string         `json:"image"`
	Ports          []Port         `json:"ports"`
	PublicPort     string         `json:"publicPort"`
	Variables      map[string]any `json:"variables"`
	Secrets        []string       `json:"secrets"`
	HealthChecks   struct {
		ReadinessProbe *struct {
			HTTPGet *struct {
				Path string `json:"path"`
				Port int    `json:"port"`
			} `json:"httpGet"`
		} `json:"readinessProbe"`
	} `json:"healthChecks"`
	ReadOnlyFileSystem bool `json:"readOnlyFileSystem"`
	Authentication     *struct {
		OAuth2 *struct {
			ClientID string `json:"clientId"`
		} `json:"oauth2"`
	} `json:"authentication"`
}

// Port is one of a component's ports.
type Port struct {
	Name string `json:"name"`
	Port int    `json:"port"`
}

// PortNumber returns the number of the port called name, or 0.
func (c Component) PortNumber(name string) int {
	for _, p := range c.Ports {
		if p.Name == name {
			return p.Port
		}
	}
	return 0
}

// File is a radixconfig as it was read: the document for the schema and the
// typed App for the rules.
type File struct {
	Path string
	App  App
	doc  any
}

// Load reads and parses a radixconfig.yaml.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f := &File{Path: path}
	if err := json.Unmarshal(js, &f.App); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if f.doc, err = jsonschema.UnmarshalJSON(strings.NewReader(string(js))); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Schema is Radix's RadixApplication schema, compiled.
type Schema struct {
	compiled *jsonschema.Schema
	raw      map[string]any
}

// LoadSchema reads the schema file at path.
func LoadSchema(path string) (*Schema, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	raw, err := jsonschema.UnmarshalJSON(strings.NewReader(string(data)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("radixapplication.json", raw); err != nil {
		return nil, err
	}
	compiled, err := c.Compile("radixapplication.json")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m, _ := raw.(map[string]any)
	return &Schema{compiled: compiled, raw: m}, nil
}

// Check returns every problem the schema finds in f, and also every key
// the schema does not define or marks as deprecated. Radix's schema allows
// unknown keys, so without that a typo such as publicPorts would pass.
func (s *Schema) Check(f *File) []string {
	var problems []string
	if err := s.compiled.Validate(f.doc); err != nil {
		problems = append(problems, err.Error())
	}
	walkKeys(f.doc, s.raw, "", &problems)
	return problems
}

func walkKeys(doc any, schema map[string]any, at string, problems *[]string) {
	switch doc := doc.(type) {
	case map[string]any:
		props, _ := schema["properties"].(map[string]any)
		extra, _ := schema["additionalProperties"].(map[string]any)
		for _, key := range slices.Sorted(func(yield func(string) bool) {
			for k := range doc {
				if !yield(k) {
					return
				}
			}
		}) {
			sub, known := props[key].(map[string]any)
			switch {
			case known:
				if d, _ := sub["description"].(string); strings.HasPrefix(d, "Deprecated") {
					*problems = append(*problems, fmt.Sprintf("%s.%s is deprecated: %s", at, key, firstLine(d)))
				}
			case extra != nil:
				sub = extra
			case props != nil:
				*problems = append(*problems, fmt.Sprintf("%s.%s is not a field Radix knows (a typo?)", at, key))
				continue
			default:
				continue // a free-form map, such as variables
			}
			walkKeys(doc[key], sub, at+"."+key, problems)
		}
	case []any:
		items, _ := schema["items"].(map[string]any)
		for i, v := range doc {
			walkKeys(v, items, fmt.Sprintf("%s[%d]", at, i), problems)
		}
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// secretName matches variable names that hold credentials; their values
// belong in Radix secrets, set in the Web Console, never in the repository.
var secretName = regexp.MustCompile(`(?i)(secret|password|passwd|token|api_?key|private_?key|connection_?string|credential)`)

// Rules returns the mistakes in f that the schema cannot see.
func Rules(f *File) []string {
	var problems []string
	add := func(format string, args ...any) {
		problems = append(problems, fmt.Sprintf(format, args...))
	}
	for _, c := range f.App.Spec.Components {
		if c.PublicPort != "" && c.PortNumber(c.PublicPort) == 0 {
			add("component %s: publicPort %q names no port in ports", c.Name, c.PublicPort)
		}
		if p := c.HealthChecks.ReadinessProbe; p != nil && p.HTTPGet != nil && !slices.ContainsFunc(c.Ports, func(port Port) bool { return port.Port == p.HTTPGet.Port }) {
			add("component %s: the readiness probe uses port %d, which is not in ports", c.Name, p.HTTPGet.Port)
		}
		for name, value := range c.Variables {
			if secretName.MatchString(name) && !settingValue(value) {
				add("component %s: variable %s looks like a secret; list it under secrets and set its value in the Radix Web Console", c.Name, name)
			}
		}
		if c.Image != "" && !pinned(c.Image) {
			add("component %s: image %s has no version; pin one, such as :v1.2.3, so that a deployment does not change by itself", c.Name, c.Image)
		}
		if p := proxyAddrProblem(c); p != "" {
			add("component %s: %s", c.Name, p)
		}
	}
	return problems
}

// pinned reports whether an image reference names a tag other than latest,
// or a digest.
func pinned(image string) bool {
	if strings.Contains(image, "@") {
		return true
	}
	name := image[strings.LastIndex(image, "/")+1:] // a registry's :port is not a tag
	_, tag, ok := strings.Cut(name, ":")
	return ok && tag != "" && tag != "latest"
}

// proxyAddrProblem checks where an oauth2-proxy component listens. An empty
// or missing OAUTH2_PROXY_HTTP_ADDRESS means 127.0.0.1:4180, which nothing
// outside the container can reach.
func proxyAddrProblem(c Component) string {
	isProxy := false
	for name := range c.Variables {
		isProxy = isProxy || strings.HasPrefix(name, "OAUTH2_PROXY_")
	}
	if !isProxy {
		return ""
	}
	value, _ := c.Variables["OAUTH2_PROXY_HTTP_ADDRESS"].(string)
	host, port, err := net.SplitHostPort(strings.TrimPrefix(strings.ToLower(value), "http://"))
	if err != nil {
		return fmt.Sprintf("OAUTH2_PROXY_HTTP_ADDRESS %q: set it to 0.0.0.0:PORT; empty or missing means 127.0.0.1:4180, unreachable from outside the container", value)
	}
	if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
		return fmt.Sprintf("OAUTH2_PROXY_HTTP_ADDRESS %q listens on loopback only, unreachable from outside the container; use 0.0.0.0:%s", value, port)
	}
	if n, _ := strconv.Atoi(port); !slices.ContainsFunc(c.Ports, func(p Port) bool { return p.Port == n }) {
		return fmt.Sprintf("OAUTH2_PROXY_HTTP_ADDRESS %q: port %s is not in ports", value, port)
	}
	return ""
}

// settingValue reports whether a variable's value is empty or a switch,
// such as OAUTH2_PROXY_PASS_ACCESS_TOKEN: "true", rather than a credential.
func settingValue(v any) bool {
	switch v {
	case nil, "", "true", "false", true, false:
		return true
	}
	return false
}
