"""Source-coding utilities shared by schemes: PDU framing, bit packing, CRCs, entropy coding."""
