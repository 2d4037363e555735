// chart-render renders a Helm chart as `helm template` does, for tests on a machine without
// Helm: Go's text/template with sprig and Helm's own functions (include, tpl, required,
// toYaml, fromYaml, toJson), the built-in objects (.Values, .Release, .Chart, .Template,
// .Capabilities) and values files merged over values.yaml in order.
//
//	chart-render CHART_DIR [-f values.yaml]... [--name RELEASE] [--namespace NS]
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
	"gopkg.in/yaml.v3"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "chart-render:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: chart-render CHART_DIR [-f values.yaml]... [--name RELEASE] [--namespace NS]")
	}
	chartDir, name, namespace := args[0], "release-name", "default"
	var valueFiles []string
	for i := 1; i < len(args); i++ {
		if i+1 >= len(args) {
			return fmt.Errorf("%s needs a value", args[i])
		}
		switch args[i] {
		case "-f", "--values":
			valueFiles = append(valueFiles, args[i+1])
		case "--name":
			name = args[i+1]
		case "--namespace":
			namespace = args[i+1]
		default:
			return fmt.Errorf("unknown argument %s", args[i])
		}
		i++
	}

	chart := map[string]interface{}{}
	if err := readYaml(filepath.Join(chartDir, "Chart.yaml"), &chart); err != nil {
		return err
	}
	values := map[string]interface{}{}
	if err := readYaml(filepath.Join(chartDir, "values.yaml"), &values); err != nil {
		return err
	}
	for _, file := range valueFiles {
		override := map[string]interface{}{}
		if err := readYaml(file, &override); err != nil {
			return err
		}
		values = merge(values, override)
	}

	files, err := filepath.Glob(filepath.Join(chartDir, "templates", "*"))
	if err != nil {
		return err
	}
	sort.Strings(files)
	root := template.New("chart").Option("missingkey=zero")
	funcs := functions(root)
	root.Funcs(funcs)
	for _, file := range files {
		text, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		rel := filepath.Join(filepath.Base(chartDir), "templates", filepath.Base(file))
		if _, err := root.New(rel).Parse(string(text)); err != nil {
			return err
		}
	}

	for _, file := range files {
		base := filepath.Base(file)
		if strings.HasPrefix(base, "_") || base == "NOTES.txt" {
			continue
		}
		rel := filepath.Join(filepath.Base(chartDir), "templates", base)
		data := map[string]interface{}{
			"Values": values,
			"Release": map[string]interface{}{
				"Name": name, "Namespace": namespace, "Service": "Helm", "IsInstall": true, "IsUpgrade": false, "Revision": 1,
			},
			"Chart": map[string]interface{}{
				"Name": chart["name"], "Version": chart["version"], "AppVersion": chart["appVersion"], "Description": chart["description"],
			},
			"Template":     map[string]interface{}{"Name": rel, "BasePath": filepath.Join(filepath.Base(chartDir), "templates")},
			"Capabilities": map[string]interface{}{"KubeVersion": map[string]interface{}{"Version": "v1.29.0", "Major": "1", "Minor": "29"}},
		}
		var out bytes.Buffer
		if err := root.ExecuteTemplate(&out, rel, data); err != nil {
			return err
		}
		if strings.TrimSpace(out.String()) == "" {
			continue
		}
		fmt.Printf("---\n# Source: %s\n%s\n", rel, strings.TrimRight(out.String(), "\n"))
	}
	return nil
}

func functions(root *template.Template) template.FuncMap {
	funcs := sprig.TxtFuncMap()
	funcs["toYaml"] = func(v interface{}) string {
		out, err := yaml.Marshal(v)
		if err != nil {
			return ""
		}
		return strings.TrimSuffix(string(out), "\n")
	}
	funcs["fromYaml"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		_ = yaml.Unmarshal([]byte(s), &m)
		return m
	}
	funcs["toJson"] = func(v interface{}) string {
		out, _ := json.Marshal(v)
		return string(out)
	}
	funcs["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil || v == "" {
			return nil, fmt.Errorf("%s", msg)
		}
		return v, nil
	}
	funcs["include"] = func(name string, data interface{}) (string, error) {
		var buf bytes.Buffer
		err := root.ExecuteTemplate(&buf, name, data)
		return buf.String(), err
	}
	funcs["tpl"] = func(text string, data interface{}) (string, error) {
		t, err := root.Clone()
		if err != nil {
			return "", err
		}
		t, err = t.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		err = t.Execute(&buf, data)
		return buf.String(), err
	}
	return funcs
}

func readYaml(path string, into *map[string]interface{}) error {
	text, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(text, into); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if *into == nil {
		*into = map[string]interface{}{}
	}
	return nil
}

// merge copies override over base: maps merge key by key, anything else replaces.
func merge(base, override map[string]interface{}) map[string]interface{} {
	out := map[string]interface{}{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range override {
		if bm, ok := out[k].(map[string]interface{}); ok {
			if om, ok := v.(map[string]interface{}); ok {
				out[k] = merge(bm, om)
				continue
			}
		}
		out[k] = v
	}
	return out
}
