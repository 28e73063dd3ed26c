# Password hashes use Argon2id from Debian's libargon2.
find_library(WEIR_ARGON2_LIBRARY argon2 REQUIRED)
target_link_libraries(weir_core PUBLIC ${WEIR_ARGON2_LIBRARY})
