package io.batchllm.http.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.jca.JCAContext;
import com.nimbusds.jose.proc.JWSKeySelector;
import com.nimbusds.jose.proc.JWSVerifierFactory;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.Base64URL;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.MessageDigest;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Verifies HS256, HS384 and HS512 tokens with the one shared secret, and picks that secret as the
 * key whatever the token's {@code kid} says.
 *
 * <p>Why not nimbus's own {@code MACVerifier} and key selector: the verifier refuses a secret shorter
 * than the hash (48 bytes for HS384, 64 for HS512), while the secret here is documented as any of 32
 * bytes or more for all three; and the key selector matches a token's {@code kid} against the key's,
 * which a bare secret does not have, so any token with a {@code kid} was refused. A single secret
 * leaves no other key to choose, so the {@code kid} cannot pick a wrong one.
 *
 * <p>The signature is the JCA's HMAC of the signing input, compared in constant time. A token with
 * {@code crit} header parameters is refused: none is understood here (RFC 7515 section 4.1.11).
 * Stateless apart from the secret; thread safe.
 */
final class SharedSecretVerifier implements JWSVerifier, JWSVerifierFactory, JWSKeySelector<SecurityContext> {
    static final Set<JWSAlgorithm> ALGORITHMS = Set.of(JWSAlgorithm.HS256, JWSAlgorithm.HS384, JWSAlgorithm.HS512);
    private static final Map<JWSAlgorithm, String> JCA_NAMES = Map.of(
            JWSAlgorithm.HS256, "HmacSHA256", JWSAlgorithm.HS384, "HmacSHA384", JWSAlgorithm.HS512, "HmacSHA512");

    private final SecretKeySpec secret;
    private final JCAContext jca = new JCAContext();

    SharedSecretVerifier(byte[] secret) {
        // The algorithm name of the spec is not used: each verification names its own.
        this.secret = new SecretKeySpec(secret, "HMAC");
    }

    @Override
    public List<? extends Key> selectJWSKeys(JWSHeader header, SecurityContext context) {
        return ALGORITHMS.contains(header.getAlgorithm()) ? List.of(secret) : List.of();
    }

    @Override
    public JWSVerifier createJWSVerifier(JWSHeader header, Key key) {
        return this;
    }

    @Override
    public boolean verify(JWSHeader header, byte[] signingInput, Base64URL signature) throws JOSEException {
        String name = JCA_NAMES.get(header.getAlgorithm());
        if (name == null || (header.getCriticalParams() != null && !header.getCriticalParams().isEmpty())) {
            return false;
        }
        try {
            Mac mac = Mac.getInstance(name);
            mac.init(new SecretKeySpec(secret.getEncoded(), name));
            return MessageDigest.isEqual(mac.doFinal(signingInput), signature.decode());
        } catch (GeneralSecurityException e) {
            throw new JOSEException("cannot compute " + name + ": " + e.getMessage(), e);
        }
    }

    @Override
    public Set<JWSAlgorithm> supportedJWSAlgorithms() {
        return ALGORITHMS;
    }

    @Override
    public JCAContext getJCAContext() {
        return jca;
    }
}
