//! EVTX writer (in progress).
