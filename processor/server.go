// Package processor is phigate's Envoy external-processing (ext_proc)
// server.
//
// Envoy opens one gRPC stream per HTTP request and sends, in order, the
// request headers, the buffered request body, the response headers and the
// response body (buffered, or chunk by chunk for event streams). Server
// runs the stream loop, and a per-request exchange builds the reply to each
// message. The exchange scans the request for PHI, evaluates the policy
// and writes the audit record. Its replies give Envoy the cluster to route
// to and what to rewrite, or the error to return instead.
package processor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"go.opentelemetry.io/otel/metric"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/phigate/phigate/audit"
	"github.com/phigate/phigate/phi"
	"github.com/phigate/phigate/policy"
	"github.com/phigate/phigate/provider"
)

// Options configures a Server.
type Options struct {
	Scanner *phi.Scanner
	// Policy supplies the engine that decides each request, and the shadow
	// candidate, if any.
	Policy   Policies
	Registry *provider.Registry
	// Keys maps provider names to their API keys. Passthrough providers
	// have no entry.
	Keys  map[string]string
	Audit Appender
	// Fingerprints, when set, adds keyed fingerprints of the PHI values
	// found to each decision record.
	Fingerprints *audit.Fingerprinter
	// MaxBodyBytes bounds request bodies; larger ones get a 413.
	MaxBodyBytes int
	// UpstreamHeader is the header Envoy's cluster_header route reads.
	UpstreamHeader string
	// ProviderHeader, TenantHeader and PurposeHeader are request headers
	// that clients may set; phigate reads them and removes them before
	// forwarding.
	ProviderHeader string
	TenantHeader   string
	PurposeHeader  string
	Logger         *slog.Logger
	// Meter creates the processor's metrics; nil disables them.
	Meter metric.Meter
}

// Policies returns the policy engines to use for the next request. A
// *policy.Manager implements it.
type Policies interface {
	Current() *policy.Engine
	// Shadow returns nil when no candidate policy is configured.
	Shadow() *policy.Engine
}

// StaticPolicy serves one engine, with no shadow and no reloading.
type StaticPolicy struct{ Engine *policy.Engine }

// Current returns the engine.
func (p StaticPolicy) Current() *policy.Engine { return p.Engine }

// Shadow returns nil.
func (StaticPolicy) Shadow() *policy.Engine { return nil }

// Appender stores audit records durably. Append must not return until the
// record survives a crash.
type Appender interface {
	Append(ctx context.Context, rec *audit.Record) error
}

// Server implements the ext_proc gRPC service.
type Server struct {
	extprocv3.UnimplementedExternalProcessorServer
	opts      Options
	providers map[string]policy.Provider
	metrics   *metrics
	// background tracks outcome records still being written, so shutdown
	// can wait for them.
	background sync.WaitGroup
}

// NewServer returns a Server. It fails if an option is missing.
func NewServer(opts Options) (*Server, error) {
	var errs []error
	if opts.Scanner == nil {
		errs = append(errs, errors.New("missing scanner"))
	}
	if opts.Policy == nil || opts.Policy.Current() == nil {
		errs = append(errs, errors.New("missing policy engine"))
	}
	if opts.Registry == nil {
		errs = append(errs, errors.New("missing provider registry"))
	}
	if opts.Audit == nil {
		errs = append(errs, errors.New("missing audit log"))
	}
	if opts.UpstreamHeader == "" {
		errs = append(errs, errors.New("missing upstream header name"))
	}
	if opts.MaxBodyBytes <= 0 {
		errs = append(errs, errors.New("max body bytes must be positive"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("creating ext_proc server: %w", err)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}

	providers := make(map[string]policy.Provider, len(opts.Registry.Providers))
	for _, p := range opts.Registry.Providers {
		providers[p.Name] = policy.Provider{
			Name:              p.Name,
			Cluster:           p.Cluster,
			Format:            string(p.Format),
			BAA:               p.BAA,
			ZeroDataRetention: p.ZeroDataRetention,
			Default:           p.Default,
			Regions:           nonNil(p.Regions),
			Models:            nonNil(p.Models),
			APIs:              nonNil(p.ServedAPIs()),
		}
	}
	return &Server{opts: opts, providers: providers, metrics: newMetrics(opts.Meter)}, nil
}

// Process handles one HTTP request's stream. Errors in handling a message
// become HTTP error responses in the client's API format. The stream
// itself fails only when Envoy sends something out of protocol or the
// stream breaks. `phigate serve` also turns a panic in here into a failed
// stream, so it cannot end the process.
func (s *Server) Process(stream extprocv3.ExternalProcessor_ProcessServer) error {
	ctx := stream.Context()
	ex := s.newExchange()
	defer ex.finish()

	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) || status.Code(err) == codes.Canceled {
			return nil
		}
		if err != nil {
			ex.fail("ext_proc stream receive failed")
			return err
		}

		resp, err := ex.handle(ctx, msg)
		if err != nil {
			ex.logger.Error("ext_proc message rejected", "error", err)
			ex.fail("ext_proc protocol error")
			return status.Error(codes.InvalidArgument, err.Error())
		}
		if err := stream.Send(resp); err != nil {
			ex.fail("ext_proc stream send failed")
			return err
		}
	}
}

// Wait blocks until the outcome records of finished requests are written.
func (s *Server) Wait() { s.background.Wait() }

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
