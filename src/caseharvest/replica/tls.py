"""TLS for the replica: a certificate authority made at start-up and one leaf certificate per host.

The proxy terminates TLS itself after ``CONNECT host:443`` (and the https origin port does so
for every connection), so it needs a certificate for whichever site host the client names.
Keys are ECDSA P-256: generating one takes milliseconds, so every server gets a fresh CA and
nothing secret is ever stored in the repository. Clients that verify can trust
:attr:`ReplicaCA.cert_pem`; Scrapy does not verify and needs nothing.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import shutil
import ssl
import tempfile
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_NAME = "caseharvest replica CA"
# Certificates are valid from a day before start-up, so a client clock a little behind accepts them.
_VALID_BEFORE = dt.timedelta(days=1)
_VALID_FOR = dt.timedelta(days=30)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "caseharvest offline replica"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


class ReplicaCA:
    """A throw-away CA and the TLS server contexts it signs, one per host name."""

    def __init__(self) -> None:
        now = dt.datetime.now(dt.UTC)
        self._key = ec.generate_private_key(ec.SECP256R1())
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(_name(CA_NAME))
            .issuer_name(_name(CA_NAME))
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _VALID_BEFORE)
            .not_valid_after(now + _VALID_FOR)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(self._key, hashes.SHA256())
        )
        self.cert_pem = self.cert.public_bytes(serialization.Encoding.PEM)
        # ssl.SSLContext.load_cert_chain reads files only: keep them in a private folder.
        self._folder = Path(tempfile.mkdtemp(prefix="caseharvest-replica-tls-"))
        self.cert_path = self._folder / "ca.pem"
        self.cert_path.write_bytes(self.cert_pem)
        self._contexts: dict[str, ssl.SSLContext] = {}
        self._files: dict[str, tuple[Path, Path]] = {}
        self._lock = threading.Lock()

    def leaf_certificate(self, host: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        """A server certificate for ``host`` (DNS name or IP address) signed by this CA."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        try:
            alt_name: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
        except ValueError:
            alt_name = x509.DNSName(host)
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(host))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _VALID_BEFORE)
            .not_valid_after(now + _VALID_FOR)
            .add_extension(x509.SubjectAlternativeName([alt_name]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(self._key, hashes.SHA256())
        )
        return cert, key

    def context_for(self, host: str) -> ssl.SSLContext:
        """The server-side TLS context presenting ``host``'s certificate (made once per host)."""
        host = host.lower()
        with self._lock:
            context = self._contexts.get(host)
            if context is None:
                cert, key = self.leaf_certificate(host)
                chain = self._folder / f"{len(self._contexts)}-chain.pem"
                key_file = self._folder / f"{len(self._contexts)}-key.pem"
                chain.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + self.cert_pem)
                key_file.write_bytes(_pem_key(key))
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.load_cert_chain(chain, key_file)
                self._contexts[host] = context
                self._files[host] = (chain, key_file)
            return context

    def sni_context(self, default_host: str) -> ssl.SSLContext:
        """A context that switches to the certificate of the host the client names (SNI)."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context_for(default_host)
        # The outer context needs a certificate of its own for clients that send no SNI.
        chain, key_file = self._files[default_host.lower()]
        context.load_cert_chain(chain, key_file)

        def choose(sock: ssl.SSLObject | ssl.SSLSocket, name: str | None, _: object) -> None:
            if name:
                sock.context = self.context_for(name)

        context.sni_callback = choose
        return context

    def close(self) -> None:
        """Remove the key and certificate files."""
        shutil.rmtree(self._folder, ignore_errors=True)
