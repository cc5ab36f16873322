// JavaHello.java - makes real Java (JSSE) ClientHellos for test_fingerprints_java.py.
//
// In: the port of a listener on 127.0.0.1 that reads one ClientHello per connection and closes.
// Out: one JSON line on stdout naming this JVM and its TLS provider (the identity the test checks
// tlsready's client_stack against), then one connection per way a Java host-server client opens TLS:
//   "ip"       - SSLSocketFactory.getDefault().createSocket("127.0.0.1", port): an address, no SNI;
//   "layered"  - a plain socket made secure with createSocket(plain, "ibmi.example.test", port, true),
//                as IBM Toolbox for Java (jt400) does: a host name, so SNI is sent.
// The handshake fails (the listener closes), which is expected: only the ClientHello matters.
import java.net.InetSocketAddress;
import java.net.Socket;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

public class JavaHello {
    static String q(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    static void hello(SSLSocket s) {
        try {
            s.setSoTimeout(5000);
            s.startHandshake();
        } catch (Exception e) {
            // the listener closes after the ClientHello
        } finally {
            try { s.close(); } catch (Exception e) { }
        }
    }

    public static void main(String[] a) throws Exception {
        int port = Integer.parseInt(a[0]);
        SSLContext ctx = SSLContext.getDefault();
        SSLSocketFactory f = ctx.getSocketFactory();
        System.out.println("{\"java.version\":" + q(System.getProperty("java.version"))
            + ",\"java.vendor\":" + q(System.getProperty("java.vendor"))
            + ",\"java.runtime.version\":" + q(System.getProperty("java.runtime.version"))
            + ",\"java.specification.version\":" + q(System.getProperty("java.specification.version"))
            + ",\"provider\":" + q(ctx.getProvider().getName())
            + ",\"suites\":" + f.getDefaultCipherSuites().length
            + ",\"tls_rsa\":" + java.util.Arrays.stream(f.getDefaultCipherSuites()).anyMatch(n -> n.startsWith("TLS_RSA_"))
            + ",\"protocols\":" + q(String.join(" ", ctx.getDefaultSSLParameters().getProtocols())) + "}");
        System.out.flush();
        hello((SSLSocket) f.createSocket("127.0.0.1", port));
        Socket plain = new Socket();
        plain.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        hello((SSLSocket) f.createSocket(plain, "ibmi.example.test", port, true));
    }
}
