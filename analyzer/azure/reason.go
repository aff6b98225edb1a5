package azure

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"

	"github.com/sightline/sightline/internal/text"
)

// Reason says in a few words why a call to Azure failed, as a user can act
// on it: the endpoint's name does not resolve, the key is wrong, the quota
// is spent, the service is throttling. The app shows it in its HUD and
// Settings; the full error stays in the logs and events.
func Reason(err error) string {
	if err == nil {
		return ""
	}
	var se *ServiceError
	if errors.As(err, &se) {
		return serviceReason(se)
	}
	var oe *OperationError
	if errors.As(err, &oe) {
		return fmt.Sprintf("the service could not read the document (%s)", orCode(oe.Code))
	}
	var dns *net.DNSError
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var urlErr *url.Error
	host := ""
	if errors.As(err, &urlErr) {
		if u, perr := url.Parse(urlErr.URL); perr == nil {
			host = u.Host
		}
	}
	switch {
	case errors.As(err, &dns):
		return "DNS: " + dns.Name + " not found — check the endpoint"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "cannot connect to " + orEndpoint(host) + " — check the endpoint"
	case errors.As(err, &unknownCA), errors.As(err, &hostname), errors.As(err, &invalid):
		return "TLS: " + orEndpoint(host) + "'s certificate is not trusted"
	case errors.Is(err, errTryTimeout):
		return "no answer in time — the network or the service is slow"
	}
	return text.OneLine(err.Error(), 90)
}

func orEndpoint(host string) string {
	if host == "" {
		return "the endpoint"
	}
	return host
}

// serviceReason names what an HTTP answer means for the user.
func serviceReason(e *ServiceError) string {
	switch {
	case e.StatusCode == 401:
		return "401: the key is wrong, or belongs to another resource"
	case e.StatusCode == 403:
		return fmt.Sprintf("403: quota spent or access denied (%s)", orCode(e.Code))
	case e.StatusCode == 404 && strings.HasSuffix(e.Code, "ModelNotFound"):
		return "404: no model of that id on this resource"
	case e.StatusCode == 404:
		return "404: wrong endpoint, or the API is not offered in this region"
	case e.StatusCode == 429:
		return "429: throttled — too many calls for this pricing tier"
	case e.StatusCode >= 500:
		return fmt.Sprintf("%d: the service failed — try again later", e.StatusCode)
	}
	return fmt.Sprintf("%d: %s", e.StatusCode, text.OneLine(orCode(e.Code)+" "+e.Message, 80))
}

func orCode(code string) string {
	if code == "" {
		return "no code"
	}
	return code
}
