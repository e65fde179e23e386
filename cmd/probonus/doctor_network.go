package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// checkBaseURL reports a base URL ending in /api/v0 as a mistake, before anything is sent, and
// goes on with the URL it should be.
func (d *doctor) checkBaseURL(context.Context) bool {
	raw := d.s.cfg.baseURL
	problem, fixed := baseURLProblem(raw)
	if problem != "" && fixed == "" {
		d.add(statusFail, "base URL", problem)
		return false
	}
	if fixed != "" {
		d.add(statusFail, "base URL", problem, "the checks below use "+fixed)
		raw = fixed
	}
	u, _ := url.Parse(strings.TrimRight(raw, "/"))
	d.base = u
	if problem == "" {
		summary := u.Redacted()
		if p := strings.TrimRight(u.Path, "/"); p != "" {
			summary += " (the API under " + p + "/api/v0, behind a proxy)"
		}
		d.add(statusOK, "base URL", summary)
	}
	return true
}

// checkAddress resolves the host, and says where it is: this machine, a private network, the internet.
func (d *doctor) checkAddress(ctx context.Context) bool {
	host := d.base.Hostname()
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		found, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if err != nil {
			d.add(statusFail, "address", fmt.Sprintf("cannot resolve %s: %v", host, unwrapDNS(err)), "is the host name right, and does this machine's DNS know it?")
			return false
		}
		addrs = found
	}
	names := make([]string, len(addrs))
	for i, a := range addrs {
		names[i] = a.Unmap().String()
	}
	where := placeOf(addrs)
	summary := strings.Join(names, ", ") + " (" + where + ")"
	if host != names[0] {
		summary = host + " is " + summary
	}
	d.add(statusOK, "address", summary)
	return true
}

func unwrapDNS(err error) error {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return errors.New(dns.Err)
	}
	return err
}

// placeOf says where addresses are: every one on this machine, every one private, or else public.
func placeOf(addrs []netip.Addr) string {
	local, private := true, true
	for _, a := range addrs {
		a = a.Unmap()
		local = local && a.IsLoopback()
		private = private && (a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast())
	}
	switch {
	case local:
		return "this machine"
	case private:
		return "a private network"
	}
	return "the internet"
}

// checkTLS shakes hands with an https server and reads its certificate; for http it says whether
// the plain text crosses a network.
func (d *doctor) checkTLS(ctx context.Context) bool {
	if d.base.Scheme == "http" {
		where := d.findings[len(d.findings)-1].Summary
		switch {
		case strings.HasSuffix(where, "(this machine)"):
			d.add(statusOK, "TLS", "not used: plain http on this machine")
		case strings.HasSuffix(where, "(a private network)"):
			d.add(statusOK, "TLS", "not used: plain http on a private network; use https if others share it")
		default:
			d.add(statusWarn, "TLS", "not used: the API key and guests' data cross the internet unencrypted", "put https in front of the server, and use an https base URL")
		}
		return true
	}
	port := d.base.Port()
	if port == "" {
		port = "443"
	}
	dialer := &tls.Dialer{NetDialer: &net.Dialer{Timeout: d.s.cfg.timeout}, Config: &tls.Config{ServerName: d.base.Hostname(), RootCAs: d.s.roots}}
	conn, err := dialer.DialContext(ctx, "tcp", net.JoinHostPort(d.base.Hostname(), port))
	if err != nil {
		var unknown x509.UnknownAuthorityError
		var host x509.HostnameError
		var invalid x509.CertificateInvalidError
		switch {
		case errors.As(err, &unknown):
			d.add(statusFail, "TLS", "the server's certificate is not trusted on this machine: "+err.Error(),
				"the SDK refuses it too: install the issuing CA on this machine (on Linux, SSL_CERT_FILE=ca.pem also works), or give the SDK an http.Client that trusts it (WithHTTPClient)")
		case errors.As(err, &host):
			d.add(statusFail, "TLS", "the certificate is for other names: "+err.Error(), "use the host name the certificate names in the base URL")
		case errors.As(err, &invalid):
			d.add(statusFail, "TLS", "the certificate is not valid: "+err.Error(), "renew it on the server")
		default:
			d.add(statusFail, "TLS", "no TLS handshake: "+err.Error(), "is the port right, and does it speak https?")
		}
		return false
	}
	defer conn.Close()
	st := conn.(*tls.Conn).ConnectionState()
	cert := st.PeerCertificates[0]
	left := time.Until(cert.NotAfter)
	summary := fmt.Sprintf("%s, certificate for %s from %s, valid until %s", tls.VersionName(st.Version),
		certName(cert), cert.Issuer.CommonName, cert.NotAfter.Format(time.DateOnly))
	if left < 14*24*time.Hour {
		d.add(statusWarn, "TLS", summary, fmt.Sprintf("the certificate expires in %d days: renew it", int(left.Hours()/24)))
		return true
	}
	d.add(statusOK, "TLS", summary)
	return true
}

func certName(c *x509.Certificate) string {
	if len(c.DNSNames) > 0 {
		return c.DNSNames[0]
	}
	return c.Subject.CommonName
}
