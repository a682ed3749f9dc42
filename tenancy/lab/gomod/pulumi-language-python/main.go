// The lab's Python language host for the Pulumi CLI: `pulumi-language-python`.
//
// Why it exists: Pulumi's own Python language host is a separate Go module
// (github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3) which the Go module proxy this project may
// use refuses for every version (403 "not available"), so `tenancy lab build` cannot build it. This program is the
// part of that host the lab needs, written against the served github.com/pulumi/pulumi/sdk/v3 module (its gRPC
// types, its Python toolchain package that finds the virtualenv, and its policy-pack proxy):
//
//   - Run: runs the program with the virtualenv's python and the `pulumi-language-python-exec` shim shipped in the
//     sdk/v3 module (installed next to this binary), passing the engine's settings as the shim's flags and the stack
//     configuration as PULUMI_CONFIG / PULUMI_CONFIG_SECRET_KEYS; the program's stdout/stderr go to the engine log.
//   - GetRequiredPackages: the resource plugins named by the pulumi-plugin.json files of the installed Python
//     packages (so the engine knows the program needs `kubernetes` at the SDK's version).
//   - RunPlugin for kind "analyzer": Python CrossGuard policy packs, `python -u -m pulumi.policy ENGINE DIR` behind
//     the sdk's PolicyProxy, which receives the stack configuration first and hands it to the pack as environment.
//   - GetPluginInfo, Handshake, About, GetProgramDependencies, InstallDependencies, RuntimeOptionsPrompts, Cancel.
//
// Everything else (code generation, packing, linking, Python resource plugins) answers Unimplemented.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "0.0.0-dev"

const (
	shimName = "pulumi-language-python-exec"
	// The shim exits with this code after it has shown the user an actionable error through the engine.
	exitAfterUserMessage = 32
)

// listPluginsScript prints the pulumi-plugin.json of every installed distribution as one JSON list.
const listPluginsScript = `
import importlib.metadata as md, json, sys
found = []
for dist in md.distributions():
    for f in dist.files or []:
        if f.name != "pulumi-plugin.json":
            continue
        try:
            data = json.loads(dist.locate_file(f).read_text())
        except Exception:
            continue
        if isinstance(data, dict):
            data.setdefault("packageVersion", dist.version)
            found.append(data)
json.dump(found, sys.stdout)
`

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	engineAddress string
	shim          string
}

func main() {
	engineAddress, showVersion := parseArgs(os.Args[1:])
	if showVersion {
		fmt.Println(version)
		return
	}
	shim, err := findShim()
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-python: %v\n", err)
		os.Exit(1)
	}
	h := &host{engineAddress: engineAddress, shim: shim}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, h)
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-python: could not start the gRPC server: %v\n", err)
		os.Exit(1)
	}
	// The engine reads the port from the first line of stdout.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-python: %v\n", err)
		os.Exit(1)
	}
}

// parseArgs returns the engine address (the last positional argument) and whether --version was asked for. The
// engine may pass logging flags (--logtostderr, --logflow, -v=N, --tracing ENDPOINT); they are accepted and ignored.
func parseArgs(args []string) (string, bool) {
	var positional []string
	for i := 0; i < len(args); i++ {
		arg := args[i]
		switch {
		case arg == "-version" || arg == "--version":
			return "", true
		case arg == "-tracing" || arg == "--tracing" || arg == "-root" || arg == "--root":
			i++ // the flag's value follows
		case strings.HasPrefix(arg, "-"):
		default:
			positional = append(positional, arg)
		}
	}
	if len(positional) == 0 {
		return "", false
	}
	return positional[len(positional)-1], false
}

// findShim looks for pulumi-language-python-exec next to this binary, then on PATH.
func findShim() (string, error) {
	if self, err := os.Executable(); err == nil {
		if resolved, err := filepath.EvalSymlinks(self); err == nil {
			candidate := filepath.Join(filepath.Dir(resolved), shimName)
			if _, err := os.Stat(candidate); err == nil {
				return candidate, nil
			}
		}
	}
	if onPath, err := exec.LookPath(shimName); err == nil {
		return onPath, nil
	}
	return "", fmt.Errorf("%s is neither next to this binary nor on PATH", shimName)
}

// pythonToolchain resolves the program's Python (its virtualenv) from the runtime options of Pulumi.yaml or
// PulumiPolicy.yaml.
func pythonToolchain(info *pulumirpc.ProgramInfo) (toolchain.Toolchain, error) {
	if info == nil {
		return nil, status.Error(codes.InvalidArgument, "missing program info")
	}
	opts := toolchain.PythonOptions{
		Root:       info.GetRootDirectory(),
		ProgramDir: info.GetProgramDirectory(),
		Toolchain:  toolchain.Pip,
	}
	if options := info.GetOptions(); options != nil {
		values := options.AsMap()
		if venv, ok := values["virtualenv"].(string); ok {
			opts.Virtualenv = venv
		}
		if name, ok := values["toolchain"].(string); ok {
			switch name {
			case "", "pip":
			case "uv":
				opts.Toolchain = toolchain.Uv
			case "poetry":
				opts.Toolchain = toolchain.Poetry
			default:
				return nil, status.Errorf(codes.InvalidArgument, "unknown Python toolchain %q", name)
			}
		}
	}
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return nil, err
	}
	if err := tc.ValidateVenv(context.Background()); err != nil {
		return nil, err
	}
	return tc, nil
}

// pythonCommand is tc.Command with an environment that always starts from ours.
func pythonCommand(ctx context.Context, tc toolchain.Toolchain, args ...string) (*exec.Cmd, error) {
	cmd, err := tc.Command(ctx, args...)
	if err != nil {
		return nil, err
	}
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	return cmd, nil
}

func (h *host) Handshake(
	ctx context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	if req.GetEngineAddress() != "" {
		h.engineAddress = req.GetEngineAddress()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(ctx context.Context, _ *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

type pluginJSON struct {
	Resource       bool   `json:"resource"`
	Name           string `json:"name"`
	Version        string `json:"version"`
	Server         string `json:"server"`
	PackageVersion string `json:"packageVersion"`
}

func (h *host) GetRequiredPackages(
	ctx context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	tc, err := pythonToolchain(req.GetInfo())
	if err != nil {
		return nil, err
	}
	cmd, err := pythonCommand(ctx, tc, "-c", listPluginsScript)
	if err != nil {
		return nil, err
	}
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("listing the Python packages' pulumi-plugin.json: %w", err)
	}
	var found []pluginJSON
	if err := json.Unmarshal(out, &found); err != nil {
		return nil, fmt.Errorf("reading the Python packages' pulumi-plugin.json: %w", err)
	}
	seen := map[string]bool{}
	var packages []*pulumirpc.PackageDependency
	for _, p := range found {
		if !p.Resource || p.Name == "" {
			continue
		}
		v := p.Version
		if v == "" {
			v = p.PackageVersion
		}
		key := p.Name + "@" + v
		if seen[key] {
			continue
		}
		seen[key] = true
		packages = append(packages, &pulumirpc.PackageDependency{
			Name: p.Name, Kind: "resource", Version: v, Server: p.Server,
		})
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: packages}, nil
}

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	tc, err := pythonToolchain(req.GetInfo())
	if err != nil {
		return nil, err
	}
	program := req.GetInfo().GetEntryPoint()
	if program == "" {
		program = req.GetProgram() //nolint:staticcheck // older engines
	}
	if !filepath.IsAbs(program) {
		program = filepath.Join(req.GetInfo().GetProgramDirectory(), program)
	}
	args := []string{"-u", h.shim}
	flag := func(name, value string) {
		if value != "" {
			args = append(args, "--"+name, value)
		}
	}
	flag("monitor", req.GetMonitorAddress())
	flag("engine", h.engineAddress)
	flag("project", req.GetProject())
	flag("root_directory", req.GetInfo().GetRootDirectory())
	flag("stack", req.GetStack())
	flag("pwd", req.GetPwd())
	flag("dry_run", fmt.Sprintf("%t", req.GetDryRun()))
	flag("parallel", fmt.Sprintf("%d", req.GetParallel()))
	flag("organization", req.GetOrganization())
	args = append(args, program)
	args = append(args, req.GetArgs()...)

	cmd, err := pythonCommand(ctx, tc, args...)
	if err != nil {
		return nil, err
	}
	config, err := json.Marshal(req.GetConfig())
	if err != nil {
		return nil, err
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secrets, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, err
	}
	cmd.Env = append(cmd.Env, "PULUMI_CONFIG="+string(config), "PULUMI_CONFIG_SECRET_KEYS="+string(secrets))
	if req.GetPwd() != "" {
		cmd.Dir = req.GetPwd()
	}

	logs := newEngineLog(h.engineAddress)
	defer logs.Close()
	stdout, stderr := logs.Writer(pulumirpc.LogSeverity_INFO), logs.Writer(pulumirpc.LogSeverity_INFO)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	runErr := cmd.Run()
	_ = stdout.Close()
	_ = stderr.Close()

	if runErr == nil {
		return &pulumirpc.RunResponse{}, nil
	}
	var exitErr *exec.ExitError
	if errors.As(runErr, &exitErr) {
		if exitErr.ExitCode() == exitAfterUserMessage {
			return &pulumirpc.RunResponse{Bail: true}, nil
		}
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("the Python program exited with code %d", exitErr.ExitCode())}, nil
	}
	return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not run the Python program: %v", runErr)}, nil
}

// streamWriter sends what is written to it as messages of a server stream (one Send at a time).
type streamWriter struct {
	mu   *sync.Mutex
	send func([]byte) error
}

func (w streamWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.send(append([]byte(nil), p...)); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (h *host) RunPlugin(req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer) error {
	if req.GetKind() != "analyzer" {
		return status.Errorf(codes.Unimplemented,
			"the lab's Python language host runs policy packs (kind analyzer) only, not %q plugins", req.GetKind())
	}
	ctx := server.Context()
	tc, err := pythonToolchain(req.GetInfo())
	if err != nil {
		return err
	}
	mu := &sync.Mutex{}
	stdout := streamWriter{mu, func(b []byte) error {
		return server.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: b}})
	}}
	stderr := streamWriter{mu, func(b []byte) error {
		return server.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: b}})
	}}

	// The engine talks to the proxy first: it announces the proxy's port, waits for the stack configuration, and
	// forwards everything else to the pack once the pack has printed its own port.
	proxy, packStdout, err := sdk.NewPolicyProxy(ctx, stdout)
	if err != nil {
		return fmt.Errorf("could not start the policy pack proxy: %w", err)
	}
	config, err := proxy.AwaitConfiguration(ctx)
	if err != nil {
		return fmt.Errorf("waiting for the policy pack's stack configuration: %w", err)
	}

	packDir := req.GetInfo().GetProgramDirectory()
	args := append([]string{"-u", "-m", "pulumi.policy"}, req.GetArgs()...)
	args = append(args, packDir)
	cmd, err := pythonCommand(ctx, tc, args...)
	if err != nil {
		return err
	}
	cmd.Env = append(cmd.Env, req.GetEnv()...)
	if config != nil {
		cfg, err := json.Marshal(config.GetConfig())
		if err != nil {
			return err
		}
		secretKeys := config.GetConfigSecretKeys()
		if secretKeys == nil {
			secretKeys = []string{}
		}
		secrets, err := json.Marshal(secretKeys)
		if err != nil {
			return err
		}
		cmd.Env = append(cmd.Env,
			"PULUMI_CONFIG="+string(cfg),
			"PULUMI_CONFIG_SECRET_KEYS="+string(secrets),
			"PULUMI_PROJECT="+config.GetProject(),
			"PULUMI_STACK="+config.GetStack(),
			"PULUMI_ORGANIZATION="+config.GetOrganization(),
			fmt.Sprintf("PULUMI_DRY_RUN=%t", config.GetDryRun()),
		)
	}
	// Policy packs have always run in their own directory.
	cmd.Dir = packDir
	cmd.Stdout, cmd.Stderr = packStdout, stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("could not start the policy pack: %w", err)
	}
	attachErr := proxy.Attach(ctx, cmd) // waits for the pack to exit
	code := int32(0)
	if state := cmd.ProcessState; state != nil {
		code = int32(state.ExitCode())
	} else if attachErr != nil {
		_ = cmd.Process.Kill()
		_, _ = stderr.Write([]byte(fmt.Sprintf("policy pack: %v\n", attachErr)))
		code = 1
	}
	mu.Lock()
	defer mu.Unlock()
	return server.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: code}})
}

func (h *host) About(ctx context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	tc, err := pythonToolchain(req.GetInfo())
	if err != nil {
		return nil, err
	}
	info, err := tc.About(ctx)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.AboutResponse{
		Executable: info.PythonExecutable,
		Version:    info.PythonVersion.String(),
		Metadata:   map[string]string{"host": "tenancy lab", "toolchainVersion": info.ToolchainVersion.String()},
	}, nil
}

func (h *host) GetProgramDependencies(
	ctx context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	tc, err := pythonToolchain(req.GetInfo())
	if err != nil {
		return nil, err
	}
	deps, err := tc.ListPackages(ctx, req.GetTransitiveDependencies())
	if err != nil {
		return nil, err
	}
	out := make([]*pulumirpc.DependencyInfo, 0, len(deps))
	for _, d := range deps {
		out = append(out, &pulumirpc.DependencyInfo{Name: d.Name, Version: d.Version})
	}
	return &pulumirpc.GetProgramDependenciesResponse{Dependencies: out}, nil
}

func (h *host) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest, server pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	info := req.GetInfo()
	if info == nil {
		return status.Error(codes.InvalidArgument, "missing program info")
	}
	opts := toolchain.PythonOptions{Root: info.GetRootDirectory(), ProgramDir: info.GetProgramDirectory(),
		Toolchain: toolchain.Pip}
	if options := info.GetOptions(); options != nil {
		if venv, ok := options.AsMap()["virtualenv"].(string); ok {
			opts.Virtualenv = venv
		}
	}
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return err
	}
	mu := &sync.Mutex{}
	stdout := streamWriter{mu, func(b []byte) error {
		return server.Send(&pulumirpc.InstallDependenciesResponse{Stdout: b})
	}}
	stderr := streamWriter{mu, func(b []byte) error {
		return server.Send(&pulumirpc.InstallDependenciesResponse{Stderr: b})
	}}
	dir := req.GetDirectory()
	if dir == "" {
		dir = info.GetProgramDirectory()
	}
	return tc.InstallDependencies(server.Context(), dir, req.GetUseLanguageVersionTools(), true, stdout, stderr)
}

func (h *host) RuntimeOptionsPrompts(
	ctx context.Context, req *pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}

func (h *host) Cancel(ctx context.Context, _ *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

// engineLog forwards a program's output, line by line, to the engine's Log service (or to our stderr when there
// is no engine to talk to).
type engineLog struct {
	conn   *grpc.ClientConn
	engine pulumirpc.EngineClient
	wg     sync.WaitGroup
}

func newEngineLog(address string) *engineLog {
	l := &engineLog{}
	if address == "" {
		return l
	}
	conn, err := grpc.NewClient(address, grpc.WithTransportCredentials(insecure.NewCredentials()),
		rpcutil.GrpcChannelOptions())
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-python: cannot reach the engine at %s: %v\n", address, err)
		return l
	}
	l.conn, l.engine = conn, pulumirpc.NewEngineClient(conn)
	return l
}

// Writer returns a pipe whose lines become engine log messages of the given severity; close it when done.
func (l *engineLog) Writer(severity pulumirpc.LogSeverity) io.WriteCloser {
	r, w := io.Pipe()
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		scanner := bufio.NewScanner(r)
		scanner.Buffer(make([]byte, 64*1024), 4*1024*1024)
		for scanner.Scan() {
			line := scanner.Text()
			if l.engine != nil {
				_, err := l.engine.Log(context.Background(), &pulumirpc.LogRequest{Severity: severity, Message: line})
				if err == nil {
					continue
				}
			}
			fmt.Fprintln(os.Stderr, line)
		}
		_, _ = io.Copy(io.Discard, r)
	}()
	return w
}

func (l *engineLog) Close() {
	l.wg.Wait()
	if l.conn != nil {
		_ = l.conn.Close()
	}
}
