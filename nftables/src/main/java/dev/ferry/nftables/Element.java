package dev.ferry.nftables;

import dev.ferry.nativeio.AttributeWriter;
import dev.ferry.nativeio.NetlinkAttribute;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * An element of a set or map: its key, and in a map its verdict or value. In an interval set, a
 * range {@code [a, b)} is two elements, {@code a} and {@code b} with {@code intervalEnd}, as nft
 * sends them (a prefix {@code 10.0.0.0/8} is 10.0.0.0 and the end 11.0.0.0; the set starts with the
 * end element 0.0.0.0 when the first range does not start at zero).
 *
 * @param timeout its own timeout, null for the set's default
 * @param comment null for none
 */
public record Element(Data key, boolean intervalEnd, Verdict verdict, Data data, Duration timeout, String comment) {

    public Element {
        Objects.requireNonNull(key, "key");
        if (verdict != null && data != null) {
            throw new IllegalArgumentException("element " + key + ": a verdict or a value, not both");
        }
        if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
            throw new IllegalArgumentException("element " + key + ": timeout " + timeout + " must be positive");
        }
        Userdata.checkComment(comment);
    }

    /** A set element. */
    public static Element of(Data key) {
        return new Element(key, false, null, null, null, null);
    }

    /** A verdict map element. */
    public static Element of(Data key, Verdict verdict) {
        return new Element(key, false, Objects.requireNonNull(verdict, "verdict"), null, null, null);
    }

    /** A data map element. */
    public static Element of(Data key, Data value) {
        return new Element(key, false, null, Objects.requireNonNull(value, "value"), null, null);
    }

    /** The end of an interval. */
    public static Element intervalEnd(Data key) {
        return new Element(key, true, null, null, null, null);
    }

    public Element withTimeout(Duration timeout) {
        return new Element(key, intervalEnd, verdict, data, timeout, comment);
    }

    public Element withComment(String comment) {
        return new Element(key, intervalEnd, verdict, data, timeout, comment);
    }

    /**
     * Element {@code index} (from 1) of a list, in nft's order: flags, timeout, key, data, comment. libnftnl
     * numbers the list's nests 1, 2, ...; the kernel reads them whatever their number.
     */
    void encode(AttributeWriter w, int index) {
        w.beginNested(index);
        if (intervalEnd) {
            w.putBe32(NftNumbers.NFTA_SET_ELEM_FLAGS, NftNumbers.NFT_SET_ELEM_INTERVAL_END);
        }
        if (timeout != null) {
            w.put(NftNumbers.NFTA_SET_ELEM_TIMEOUT, Rule.be64(timeout.toMillis()));
        }
        ExpressionCodec.putData(w, NftNumbers.NFTA_SET_ELEM_KEY, key);
        if (verdict != null) {
            ExpressionCodec.putVerdict(w, NftNumbers.NFTA_SET_ELEM_DATA, verdict);
        } else if (data != null) {
            ExpressionCodec.putData(w, NftNumbers.NFTA_SET_ELEM_DATA, data);
        }
        if (comment != null) {
            w.put(NftNumbers.NFTA_SET_ELEM_USERDATA, Userdata.comment(comment));
        }
        w.endNested();
    }

    /** An element of a NEWSETELEM answer; its timeout is the one it was given (the kernel also reports what is left). */
    static Element decode(List<NetlinkAttribute> a) {
        boolean end = (ExpressionCodec.u32(a, NftNumbers.NFTA_SET_ELEM_FLAGS, 0) & NftNumbers.NFT_SET_ELEM_INTERVAL_END) != 0;
        Verdict verdict = null;
        Data data = null;
        if (ExpressionCodec.find(a, NftNumbers.NFTA_SET_ELEM_DATA).isPresent()) {
            verdict = ExpressionCodec.verdict(a, NftNumbers.NFTA_SET_ELEM_DATA);
            data = verdict == null ? ExpressionCodec.data(a, NftNumbers.NFTA_SET_ELEM_DATA) : null;
        }
        Duration timeout = ExpressionCodec.find(a, NftNumbers.NFTA_SET_ELEM_TIMEOUT).map(t -> Duration.ofMillis(t.be64()))
                .orElse(null);
        String comment = ExpressionCodec.find(a, NftNumbers.NFTA_SET_ELEM_USERDATA)
                .map(u -> Userdata.findString(u.bytes(), Userdata.COMMENT)).orElse(null);
        return new Element(ExpressionCodec.data(a, NftNumbers.NFTA_SET_ELEM_KEY), end, verdict, data, timeout, comment);
    }
}
