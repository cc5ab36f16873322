// LabSSLFactory.java - the lab's view into the TLS sockets that jt400 makes.
//
// jt400 (SocketContainerJSSE) layers TLS with SSLSocketFactory.getDefault().createSocket(plain, ...).
// LabClient installs this class as "ssl.SocketFactory.provider", so every such socket passes here:
// we delegate to the JDK's own factory and, when a handshake completes, print one JSON line
// {"event":"tls", local/remote port, protocol, cipher} (JSSE gives IANA cipher names).
// In: sockets from jt400.  Out: the same sockets, plus JSON lines on stdout.
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

public class LabSSLFactory extends SSLSocketFactory {
    private final SSLSocketFactory d;

    public LabSSLFactory() throws Exception {
        d = SSLContext.getDefault().getSocketFactory();
    }

    private Socket watch(Socket s) {
        if (s instanceof SSLSocket) {
            SSLSocket ss = (SSLSocket) s;
            ss.addHandshakeCompletedListener(ev -> LabClient.emit("tls",
                "local_port", ss.getLocalPort(), "remote_port", ss.getPort(),
                "protocol", ev.getSession().getProtocol(), "cipher", ev.getCipherSuite()));
        }
        return s;
    }

    public String[] getDefaultCipherSuites() { return d.getDefaultCipherSuites(); }
    public String[] getSupportedCipherSuites() { return d.getSupportedCipherSuites(); }
    public Socket createSocket(Socket s, String h, int p, boolean a) throws IOException {
        LabClient.emit("tls-start", "local_port", s.getLocalPort(), "remote_port", p);
        return watch(d.createSocket(s, h, p, a));
    }
    public Socket createSocket(String h, int p) throws IOException { return watch(d.createSocket(h, p)); }
    public Socket createSocket(String h, int p, InetAddress l, int lp) throws IOException {
        return watch(d.createSocket(h, p, l, lp));
    }
    public Socket createSocket(InetAddress h, int p) throws IOException { return watch(d.createSocket(h, p)); }
    public Socket createSocket(InetAddress h, int p, InetAddress l, int lp) throws IOException {
        return watch(d.createSocket(h, p, l, lp));
    }
}
