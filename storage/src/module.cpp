// placeholder translation unit so the target exists before its first module lands
namespace kolokol {}
