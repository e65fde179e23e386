// Package exampleenv connects the examples to a ProBonus server: the one named by the
// environment, or an embedded probonustest server with demo data when none is named.
package exampleenv

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/probonustest"
)

// The environment variables the examples read.
const (
	EnvBaseURL  = "PROBONUS_BASE_URL"
	EnvAPIKey   = "PROBONUS_API_KEY"
	EnvLogin    = "PROBONUS_LOGIN"
	EnvPassword = "PROBONUS_PASSWORD"
)

// Demo data of the embedded server.
const (
	ReturningPhone = probonustest.DemoPhone // a guest with a visit and bonuses
	NewPhone       = probonustest.DemoNewPhone
)

// Env is where an example runs.
type Env struct {
	Client   *probonus.Client
	Embedded *probonustest.Server // nil when talking to a real server
	Write    bool                 // whether the example may change data
}

// Options configure Setup.
type Options struct {
	Write       bool                  // the -write flag: allowed to change data on a real server
	PreferLogin bool                  // use PROBONUS_LOGIN/PASSWORD even when a key is set
	Server      []probonustest.Option // for the embedded server
	Client      []probonus.Option     // extra client options
	Getenv      func(string) string   // default os.Getenv
	Out         io.Writer             // where to say which server is used
}

// Setup makes the client. Without PROBONUS_BASE_URL it starts an embedded server with demo data
// (data there may always change) and says so; close it with the returned function.
func Setup(o Options) (*Env, func(), error) {
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	base := getenv(EnvBaseURL)
	if base == "" {
		srv := probonustest.NewServer(nil, o.Server...)
		Seed(srv)
		auth := probonus.WithAPIKey(srv.APIKey())
		if o.PreferLogin {
			auth = probonus.WithLogin(srv.Login())
		}
		c, err := probonus.New(append([]probonus.Option{probonus.WithBaseURL(srv.URL()), auth}, o.Client...)...)
		if err != nil {
			srv.Close()
			return nil, nil, err
		}
		fmt.Fprintf(o.Out, "# %s is not set: using an embedded probonustest server at %s with demo data\n", EnvBaseURL, srv.URL())
		return &Env{Client: c, Embedded: srv, Write: true}, srv.Close, nil
	}
	var auth probonus.Option
	key, login, password := getenv(EnvAPIKey), getenv(EnvLogin), getenv(EnvPassword)
	switch {
	case login != "" && (o.PreferLogin || key == ""):
		auth = probonus.WithLogin(login, password)
	case key != "":
		auth = probonus.WithAPIKey(key)
	default:
		return nil, nil, errors.New("set " + EnvAPIKey + ", or " + EnvLogin + " and " + EnvPassword + ", for " + base)
	}
	c, err := probonus.New(append([]probonus.Option{probonus.WithBaseURL(base), auth, probonus.WithUserAgent("probonus-go-examples")}, o.Client...)...)
	if err != nil {
		return nil, nil, err
	}
	mode := "read-only (pass -write to let it change data)"
	if o.Write {
		mode = "writing"
	}
	fmt.Fprintf(o.Out, "# using %s, %s\n", base, mode)
	return &Env{Client: c, Write: o.Write}, func() {}, nil
}

// Seed gives an embedded server the demo data of probonustest.SeedDemo.
func Seed(srv *probonustest.Server) { probonustest.SeedDemo(srv) }
