# The same addon as CMakeLists.txt, for node-gyp (scripts/build-gyp.mjs builds it offline into
# build-gyp/Release/gru_simd.node). Keep the flags of the two builds in step.
#
# gyp has no per-file flags, so each ISA translation unit that needs its own -m flags is a
# static library of its own (gru_isa_avx2, gru_isa_avx512, gru_isa_avx512_dot) linked into the module; the baseline
# stays plain x86-64. Sources are listed with node (readdirSync), as CMake globs them: a new file needs no edit.
{
  'target_defaults': {
    'include_dirs': [
      '<!(node -p "require(\'node-addon-api\').include_dir")',
      'native/include',
      'native',
    ],
    'defines': [
      'NAPI_VERSION=8',
      'NAPI_DISABLE_CPP_EXCEPTIONS',
    ],
    'cflags': ['-fPIC', '-fvisibility=hidden', '-Wall', '-Wextra', '-Wno-unused-parameter'],
    'cflags!': ['-fno-omit-frame-pointer'],
    'cflags_cc': ['-std=c++17', '-fno-exceptions', '-fno-rtti', '-fvisibility-inlines-hidden', '-O3'],
    'cflags_cc!': ['-std=gnu++17', '-std=gnu++20', '-fexceptions', '-frtti'],
    'xcode_settings': {
      'GCC_ENABLE_CPP_EXCEPTIONS': 'NO',
      'GCC_ENABLE_CPP_RTTI': 'NO',
      'GCC_SYMBOLS_PRIVATE_EXTERN': 'YES',
      'CLANG_CXX_LANGUAGE_STANDARD': 'c++17',
      'OTHER_CPLUSPLUSFLAGS': ['-O3'],
    },
    'msvs_settings': {
      'VCCLCompilerTool': { 'ExceptionHandling': 0, 'RuntimeTypeInfo': 'false' },
    },
  },
  'targets': [
    {
      'target_name': 'gru_simd',
      'sources': [
        '<!@(node -p "require(\'fs\').readdirSync(\'native/addon\').filter(f=>f.endsWith(\'.cpp\')).map(f=>\'native/addon/\'+f).join(\' \')")',
        '<!@(node -p "require(\'fs\').readdirSync(\'native/core\').filter(f=>f.endsWith(\'.cpp\')).map(f=>\'native/core/\'+f).join(\' \')")',
        '<!@(node -p "require(\'fs\').readdirSync(\'native/kernels\').filter(f=>/^isa_.*[.]cpp$/.test(f)&&!/^isa_avx/.test(f)).map(f=>\'native/kernels/\'+f).join(\' \')")',
      ],
      'conditions': [
        ['target_arch=="x64" and OS!="win"', {
          'dependencies': ['gru_isa_avx2', 'gru_isa_avx512', 'gru_isa_avx512_dot'],
        }, {
          # Elsewhere the x86 TUs compile to nothing (each guards its body with its arch macro).
          'sources': [
            '<!@(node -p "require(\'fs\').readdirSync(\'native/kernels\').filter(f=>/^isa_avx.*[.]cpp$/.test(f)).map(f=>\'native/kernels/\'+f).join(\' \')")',
          ],
        }],
      ],
    },
  ],
  'conditions': [
    ['target_arch=="x64" and OS!="win"', {
      'targets': [
        {
          'target_name': 'gru_isa_avx2',
          'type': 'static_library',
          'sources': ['native/kernels/isa_avx2.cpp'],
          'cflags_cc': ['-mavx2', '-mfma'],
          'xcode_settings': { 'OTHER_CPLUSPLUSFLAGS': ['-mavx2', '-mfma'] },
        },
        {
          'target_name': 'gru_isa_avx512',
          'type': 'static_library',
          'sources': ['native/kernels/isa_avx512.cpp'],
          # -Wno-maybe-uninitialized: GCC 12 warns inside avx512fintrin.h (GCC bug 105593).
          'cflags_cc': ['-mavx512f', '-mavx512dq', '-mavx512bw', '-mavx512vl', '-mfma', '-mavx2',
                        '-Wno-maybe-uninitialized', '-Wno-uninitialized'],
          'xcode_settings': {
            'OTHER_CPLUSPLUSFLAGS': ['-mavx512f', '-mavx512dq', '-mavx512bw', '-mavx512vl', '-mfma', '-mavx2'],
          },
        },
        {
          'target_name': 'gru_isa_avx512_dot',
          'type': 'static_library',
          'sources': ['native/kernels/isa_avx512_dot.cpp'],
          'cflags_cc': ['-mavx512f', '-mavx512dq', '-mavx512bw', '-mavx512vl', '-mavx512bf16', '-mavx512vnni', '-mfma',
                        '-mavx2', '-Wno-maybe-uninitialized', '-Wno-uninitialized'],
          'xcode_settings': {
            'OTHER_CPLUSPLUSFLAGS': ['-mavx512f', '-mavx512dq', '-mavx512bw', '-mavx512vl', '-mavx512bf16', '-mavx512vnni', '-mfma', '-mavx2'],
          },
        },
      ],
    }],
  ],
}
