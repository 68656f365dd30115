/// The pickle machine (in progress).
