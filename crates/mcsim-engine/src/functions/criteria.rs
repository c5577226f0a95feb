//! Criteria as SUMIF, COUNTIF and their kin read them (`">=10"`, `"<>x"`, `"a*"`, `5`).
