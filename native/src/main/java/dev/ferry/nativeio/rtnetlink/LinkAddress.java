package dev.ferry.nativeio.rtnetlink;

import java.net.InetAddress;

/** One address the kernel lists on a link, with its prefix length (the sync needs it to delete). */
record LinkAddress(int index, InetAddress address, int prefixLength) {

    @Override
    public String toString() {
        return address.getHostAddress() + "/" + prefixLength + " on link " + index;
    }
}
