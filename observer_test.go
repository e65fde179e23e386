package probonus_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/probonustest"
)

// recorder is an Observer that writes one line per event, and adds a header to every attempt.
type recorder struct {
	name  string
	mu    *sync.Mutex
	lines *[]string
}

type depthKey struct{ name string }

func (r recorder) add(ctx context.Context, format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	depth, _ := ctx.Value(depthKey{r.name}).(int)
	*r.lines = append(*r.lines, r.name+": "+strings.Repeat("  ", depth)+fmt.Sprintf(format, args...))
}

func (r recorder) CallStart(ctx context.Context, c *probonus.Call) context.Context {
	r.add(ctx, "call %s %s %s", c.Operation, c.Method, c.Path)
	depth, _ := ctx.Value(depthKey{r.name}).(int)
	return context.WithValue(ctx, depthKey{r.name}, depth+1)
}

func (r recorder) CallEnd(ctx context.Context, c *probonus.Call) {
	r.add(ctx, "end %s attempts=%d err=%v unknown=%v", c.Operation, c.Attempts, c.Err != nil, c.OutcomeUnknown)
}

func (r recorder) AttemptStart(ctx context.Context, a *probonus.Attempt) context.Context {
	r.add(ctx, "attempt %d replay=%v retry=%v", a.Number, a.Replay, a.Retry)
	a.Header.Set("Traceparent", "00-"+r.name)
	depth, _ := ctx.Value(depthKey{r.name}).(int)
	return context.WithValue(ctx, depthKey{r.name}, depth+1)
}

func (r recorder) AttemptEnd(ctx context.Context, a *probonus.Attempt) {
	r.add(ctx, "attempt %d status=%d reason=%q", a.Number, a.StatusCode, a.RetryReason)
}

func TestObserverSeesCallsAttemptsAndLogins(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t, probonustest.WithBasePath("/bonus"))
	var mu sync.Mutex
	var lines []string
	login, password := srv.Login()
	c, err := probonus.New(probonus.WithBaseURL(srv.URL()), probonus.WithLogin(login, password),
		probonus.WithRetry(probonus.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}),
		probonus.WithObserver(recorder{"a", &mu, &lines}), probonus.WithObserver(recorder{"b", &mu, &lines}))
	require.NoError(t, err)
	srv.FailNext("GET", probonustest.PathFindByPhone, 503, "<html>503</html>", 0)
	_, err = c.Accounts.FindByPhone(context.Background(), "+7 916 111-22-33")
	require.ErrorIs(t, err, probonus.ErrNotFound)

	mu.Lock()
	got := strings.Join(lines, "\n")
	mu.Unlock()
	want := strings.Join([]string{
		`a: call Accounts.FindByPhone GET /api/v0/accounts/find_by_phone`,
		`b: call Accounts.FindByPhone GET /api/v0/accounts/find_by_phone`,
		`a:   attempt 1 replay=false retry=false`,
		`b:   attempt 1 replay=false retry=false`,
		// the login is a call of its own, inside the attempt that needed the token
		`a:     call Auth.Login POST /api/v0/auth/login`,
		`b:     call Auth.Login POST /api/v0/auth/login`,
		`a:       attempt 1 replay=false retry=false`,
		`b:       attempt 1 replay=false retry=false`,
		`a:         attempt 1 status=200 reason=""`,
		`b:         attempt 1 status=200 reason=""`,
		`a:       end Auth.Login attempts=1 err=false unknown=false`,
		`b:       end Auth.Login attempts=1 err=false unknown=false`,
		`a:     attempt 1 status=503 reason="server unavailable (503)"`,
		`b:     attempt 1 status=503 reason="server unavailable (503)"`,
		`a:   attempt 2 replay=false retry=true`,
		`b:   attempt 2 replay=false retry=true`,
		`a:     attempt 2 status=404 reason=""`,
		`b:     attempt 2 status=404 reason=""`,
		`a:   end Accounts.FindByPhone attempts=2 err=true unknown=false`,
		`b:   end Accounts.FindByPhone attempts=2 err=true unknown=false`,
	}, "\n")
	assert.Equal(t, want, got)

	// the observers' header reached the server; the phone never reached an observer
	for _, r := range srv.Requests() {
		if r.Path == probonustest.PathFindByPhone {
			assert.Equal(t, "00-b", r.Header.Get("Traceparent"), "observers run in order; the last one's value stands")
		}
	}
	assert.NotContains(t, got, "79161112233")
}

func TestObserverSeesAnUnknownOutcome(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t)
	id := srv.AddAccount(probonustest.Account{GroupID: 3, Phone: "79991234567"})
	var mu sync.Mutex
	var lines []string
	c, err := probonus.New(probonus.WithBaseURL(srv.URL()), probonus.WithAPIKey(srv.APIKey()),
		probonus.WithObserver(recorder{"o", &mu, &lines}))
	require.NoError(t, err)
	srv.Inject("POST", probonustest.PathRefill, probonustest.Fault{AfterApply: true, Status: 500, Body: "Internal Server Error"})
	_, err = c.Accounts.Refill(context.Background(), probonus.Refill{AccountID: id, Amount: probonus.MustAmount("5")})
	require.ErrorIs(t, err, probonus.ErrOutcomeUnknown)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{
		`o: call Accounts.Refill POST /api/v0/accounts/refill`,
		`o:   attempt 1 replay=false retry=false`,
		`o:     attempt 1 status=500 reason=""`,
		`o:   end Accounts.Refill attempts=1 err=true unknown=true`,
	}, lines)
}

// issue 26 item 15: a 404 the SDK consumes itself (FindOrInsert's first find of a new guest) is
// an expected answer, logged at Debug; only what the caller gets as an error is a warning.
func TestLoggerWarnsOnlyOfWhatTheCallerGets(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		call  func(ctx context.Context, c *probonus.Client) error
		warns []string // the WARN lines' start, after the time
		calls []string // what an Observer sees of each call's end
	}{
		{"FindOrInsert of a new guest", func(ctx context.Context, c *probonus.Client) error {
			_, created, err := c.Accounts.FindOrInsert(ctx, probonus.NewAccount{GroupID: 3, Phone: "+7 999 000-00-01"})
			if err == nil && !created {
				err = fmt.Errorf("not created")
			}
			return err
		}, nil, []string{"Accounts.FindByPhone err=true handled=true", "Accounts.InsertByTemplate err=false handled=false"}},
		{"FindOrInsert of a guest there", func(ctx context.Context, c *probonus.Client) error {
			_, _, err := c.Accounts.FindOrInsert(ctx, probonus.NewAccount{GroupID: 3, Phone: "+7 999 000-00-02"})
			return err
		}, nil, []string{"Accounts.FindByPhone err=false handled=false"}},
		{"FindByPhone of a new guest: the caller gets the 404", func(ctx context.Context, c *probonus.Client) error {
			if _, err := c.Accounts.FindByPhone(ctx, "+7 999 000-00-01"); !errors.Is(err, probonus.ErrNotFound) {
				return fmt.Errorf("want ErrNotFound, got %v", err)
			}
			return nil
		}, []string{`level=WARN msg="probonus call failed" op=Accounts.FindByPhone method=GET path=/api/v0/accounts/find_by_phone attempts=1`},
			[]string{"Accounts.FindByPhone err=true handled=false"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := probonustest.NewServer(t)
			srv.AddAccount(probonustest.Account{GroupID: 3, Phone: "+7 999 000-00-02"})
			var buf lockedBuffer
			logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug,
				ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
					if a.Key == slog.TimeKey {
						return slog.Attr{}
					}
					return a
				}}))
			seen := &callEnds{}
			c, err := probonus.New(srv.ClientOptions(probonus.WithLogger(logger), probonus.WithObserver(seen))...)
			require.NoError(t, err)
			require.NoError(t, tc.call(context.Background(), c))
			var warns []string
			for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
				if strings.HasPrefix(l, "level=WARN") {
					warns = append(warns, l)
				}
			}
			require.Len(t, warns, len(tc.warns), buf.String())
			for i, w := range tc.warns {
				assert.True(t, strings.HasPrefix(warns[i], w), warns[i])
			}
			if tc.warns == nil && strings.HasPrefix(tc.name, "FindOrInsert of a new") {
				// the consumed 404 is still in the debug log, as what it is
				assert.Contains(t, buf.String(), `level=DEBUG msg="probonus request" op=Accounts.FindByPhone method=GET path=/api/v0/accounts/find_by_phone status=404`)
				assert.Contains(t, buf.String(), `level=DEBUG msg="probonus call handled" op=Accounts.FindByPhone`)
			}
			seen.mu.Lock()
			defer seen.mu.Unlock()
			assert.Equal(t, tc.calls, seen.lines)
		})
	}
}

// callEnds is an Observer that keeps each call's end: its operation, error and Handled.
type callEnds struct {
	mu    sync.Mutex
	lines []string
}

func (o *callEnds) CallStart(ctx context.Context, _ *probonus.Call) context.Context       { return ctx }
func (o *callEnds) AttemptStart(ctx context.Context, _ *probonus.Attempt) context.Context { return ctx }
func (o *callEnds) AttemptEnd(context.Context, *probonus.Attempt)                         {}
func (o *callEnds) CallEnd(_ context.Context, c *probonus.Call) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.lines = append(o.lines, fmt.Sprintf("%s err=%v handled=%v", c.Operation, c.Err != nil, c.Handled))
}

// TestObserverHeadersStayHome: a header an observer adds (a traceparent) never follows a
// redirect to another origin.
func TestObserverHeadersStayHome(t *testing.T) {
	t.Parallel()
	var got http.Header
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		_, _ = io.WriteString(w, `[]`)
	}))
	defer other.Close()
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusFound)
	}))
	defer redirector.Close()
	var mu sync.Mutex
	var lines []string
	c, err := probonus.New(probonus.WithBaseURL(redirector.URL), probonus.WithAPIKey("observer-key"),
		probonus.WithObserver(recorder{"o", &mu, &lines}))
	require.NoError(t, err)
	_, err = c.AccountGroups.List(context.Background())
	require.NoError(t, err)
	require.NotNil(t, got)
	assert.Empty(t, got.Get("Traceparent"))
	assert.Empty(t, got.Get("X-API-Key"))
}

// becauseRecorder keeps each attempt's SentBecause.
type becauseRecorder struct {
	mu      sync.Mutex
	because []string
}

func (r *becauseRecorder) CallStart(ctx context.Context, _ *probonus.Call) context.Context {
	return ctx
}
func (r *becauseRecorder) CallEnd(context.Context, *probonus.Call)       {}
func (r *becauseRecorder) AttemptEnd(context.Context, *probonus.Attempt) {}
func (r *becauseRecorder) AttemptStart(ctx context.Context, a *probonus.Attempt) context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.because = append(r.because, a.SentBecause)
	return ctx
}

// TestAttemptSaysWhyItWasSent: a retry carries the reason of the attempt before it, by value, so
// an observer needs no state of its own between attempts.
func TestAttemptSaysWhyItWasSent(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t)
	r := &becauseRecorder{}
	c, err := probonus.New(srv.ClientOptions(probonus.WithObserver(r))...)
	require.NoError(t, err)
	srv.FailNext("GET", probonustest.PathAccountGroupsList, 503, "<html>503</html>", 0)
	srv.FailNext("GET", probonustest.PathAccountGroupsList, 429, `{"detail":"Too Many Requests"}`, 0)
	_, err = c.AccountGroups.List(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{"", "server unavailable (503)", "rate limited (429)"}, r.because)
}
