package dev.ferry.proxy;

import java.util.List;

/**
 * The deprecated --healthz-port and --metrics-port, applied as upstream v1.34 applies them (options.go,
 * Complete): only when neither --config nor --write-config-to is given; port 0 turns the server
 * off; any other port completes a bind address given without one and leaves an address with a
 * port alone (the default addresses have one, so there it changes nothing). Each flag given says
 * once, as pflag does, that it is deprecated, and what it did.
 */
final class DeprecatedPorts {

    private DeprecatedPorts() {
    }

    /**
     * @param portFlag     the deprecated flag
     * @param port         its value; null when it was not given
     * @param addressFlag  the bind address flag it completes
     * @param address      that flag's value (null: the server is off)
     * @param addressText  the text the address flag was given on the command line; null when it was not
     * @param apply        false with --config or --write-config-to
     * @param warnings     where the one warning about {@code portFlag} goes
     * @return the bind address to use
     */
    static BindAddress apply(String portFlag, Integer port, String addressFlag, BindAddress address, String addressText,
                             boolean apply, List<String> warnings) {
        if (port == null) {
            return address;
        }
        String deprecated = portFlag + " is deprecated and will be removed, use " + addressFlag + " (as upstream); ";
        if (!apply) {
            warnings.add(deprecated + "ignored because a config file is used (--config or --write-config-to), as upstream");
            return address;
        }
        if (port == 0) {
            warnings.add(deprecated + "0 turns the server off");
            return null;
        }
        if (address == null) {
            warnings.add(deprecated + "no effect: " + addressFlag + " is empty, the server is off");
            return null;
        }
        if (addressText != null && BindAddress.isAddressAlone(addressText.trim())) {
            BindAddress withPort = new BindAddress(address.address(), port);
            warnings.add(deprecated + "the server listens on " + withPort);
            return withPort;
        }
        warnings.add(deprecated + "no effect: " + addressFlag + " has a port (" + address + "), and upstream v1.34 only "
                + "adds this port to an address given without one");
        return address;
    }
}
