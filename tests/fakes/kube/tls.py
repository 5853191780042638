"""The fake cluster's PKI: a CA made for the test run, the serving certificate, and client certificates.

Models what a kubeadm-style cluster hands its users: the API server serves HTTPS with a certificate for
`127.0.0.1` signed by the cluster CA, and the kubeconfig carries that CA as `certificate-authority-data`
(https://kubernetes.io/docs/concepts/configuration/organize-cluster-access-kubeconfig/). A client certificate
signed by the same CA authenticates its holder: the subject's common name is the user name and each
organization is a group (https://kubernetes.io/docs/reference/access-authn-authz/authentication/#x509-client-certificates).

Keys are ECDSA P-256 (what Go's and Python's TLS stacks both accept; far cheaper to make than RSA). The CA and
the serving certificate are made once per process and shared by every fake started in it.
"""

from __future__ import annotations

import datetime
import functools
import ipaddress
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class KeyPair:
    cert_pem: bytes
    key_pem: bytes


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _name(cn: str, orgs: tuple[str, ...] = ()) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs]
    return x509.Name([*attrs, x509.NameAttribute(NameOID.COMMON_NAME, cn)])


class CertificateAuthority:
    """A CA that signs the serving certificate and client certificates (`client(user, groups)`)."""

    def __init__(self, cn: str = "fake-kubernetes-ca") -> None:
        self._key = _key()
        now = datetime.datetime.now(datetime.UTC)
        self._subject = _name(cn)
        self._cert = (
            x509.CertificateBuilder()
            .subject_name(self._subject)
            .issuer_name(self._subject)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                    key_encipherment=False, data_encipherment=False, key_agreement=False,
                    encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .sign(self._key, hashes.SHA256())
        )  # fmt: skip
        self.cert_pem = self._cert.public_bytes(serialization.Encoding.PEM)

    def _issue(
        self, subject: x509.Name, usage: x509.ObjectIdentifier, sans: list[x509.GeneralName]
    ) -> KeyPair:
        key = _key()
        now = datetime.datetime.now(datetime.UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self._subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        cert = builder.sign(self._key, hashes.SHA256())
        return KeyPair(cert.public_bytes(serialization.Encoding.PEM), _pem_key(key))

    def server(self) -> KeyPair:
        """The API server's serving certificate: valid for 127.0.0.1 and localhost."""
        sans: list[x509.GeneralName] = [
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.DNSName("localhost"),
            x509.DNSName("kubernetes.default.svc"),
        ]
        return self._issue(_name("kube-apiserver"), ExtendedKeyUsageOID.SERVER_AUTH, sans)

    def client(self, user: str, groups: tuple[str, ...] = ()) -> KeyPair:
        """A client certificate: CN is the user name, each O a group (the x509 authenticator's rule)."""
        return self._issue(_name(user, groups), ExtendedKeyUsageOID.CLIENT_AUTH, [])


@functools.cache
def test_run_ca() -> CertificateAuthority:
    """The CA of this test run (one per process: making keys is the slow part)."""
    return CertificateAuthority()


@functools.cache
def _serving_pair() -> KeyPair:
    return test_run_ca().server()


def server_context(ca: CertificateAuthority | None = None) -> ssl.SSLContext:
    """The server side: serve the CA-signed certificate, and ask for (not require) a client certificate."""
    ca = ca or test_run_ca()
    pair = _serving_pair() if ca is test_run_ca() else ca.server()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    # kubectl's websocket dialer (gorilla) negotiates HTTP/1.1 over ALPN like every other request.
    ctx.set_alpn_protocols(["http/1.1"])
    with tempfile.TemporaryDirectory(prefix="fake-kube-tls-") as tmp:
        cert, key = Path(tmp) / "tls.crt", Path(tmp) / "tls.key"
        cert.write_bytes(pair.cert_pem)
        key.write_bytes(pair.key_pem)
        ctx.load_cert_chain(cert, key)
    ctx.load_verify_locations(cadata=ca.cert_pem.decode())
    ctx.verify_mode = ssl.CERT_OPTIONAL  # a client certificate is one way to authenticate, not the only one
    return ctx
