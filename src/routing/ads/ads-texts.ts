/**
 * What the ads funnel says when the CRM's course rows leave a text empty: the automations service's
 * own texts (FLOWS.md §A), kept word for word so customers see no change at the cut-over.
 */
export const ADS_TEXTS = {
  menuBody: 'Selecciona que informacion necesitas:',
  button: 'Ver opciones',
  footer: 'PSI Asociacion',
  infoSection: 'Informacion',
  contactSection: 'Contacto',
  moreSection: 'Más opciones',
  more: '➡️ Ver más',
  previous: '⬅️ Página anterior',
  buttonsHeader: '🎓 PSI Asociación',
  buttonsBody: '¡Hola! 👋 Gracias por escribirnos a PSI.\n\n¿Qué tipo de formación te interesa?',
  buttonCourses: '📚 Cursos',
  buttonSpecialisations: '🎓 Especializaciones',
  buttonAgent: '💬 Hablar c/asesor',
  coursesHeader: '📚 Cursos',
  specialisationsHeader: '🎓 Especializaciones',
  pickCourse: 'Seleccioná el curso:',
  pickSpecialisation: 'Seleccioná la especialización:',
  noCourses: 'No hay cursos disponibles.\n\nEn breve te atiende un asesor.',
  noSpecialisations: 'No hay especializaciones disponibles.\n\nEn breve te atiende un asesor.',
  agent: '¡Perfecto! 👋\n\nEn breve te atiende un asesor.',
  infoMissing: 'Info no disponible.',
  derive: 'Un momento, te comunico con nuestro equipo...',
  enrol: '¡Excelente! 🎉 Te comunico con nuestro equipo...',
  noMenu: (name: string) => `¡Gracias por tu interés en *${name}*!\n\nEn breve te atiende un asesor.`,
  webNoMenu: (name: string) =>
    `¡Hola! 👋 Gracias por tu interés en *${name}*.\n\nEn breve te contacta un asesor con toda la info.`,
  webInactive: (name: string) =>
    `¡Hola! 👋 Gracias por tu interés en *${name}*.\n\nEn este momento no hay cohorte abierta, pero un asesor te puede informar sobre las próximas fechas.`,
  webNoMatch: '¡Hola! 👋 Gracias por contactarnos.\n\nEn breve te atiende un asesor.',
} as const;
